"""The implement step: an iteration's code, written (by a model) and smoke-checked before it counts.

With a model, ``ClaudeCodeWriter`` writes the entry point from the plan's
entry and the task; the smoke check (:mod:`.smoke`) runs it; a failure goes
to the reviewer, whose fixed code is checked again, at most ``rounds`` times
(``review_loop``). Without a model (the ``manual`` planner) the code must
already be there, written by hand: the step only checks it. Code someone
wrote by hand is never overwritten: the writer runs only while the entry
point is missing or still the stub ``--apply`` scaffolds.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import LlmError, ReviewLoopExhausted
from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.llm.reviewer import review_loop
from pytest_iterbench.llm.solver import code_problem
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured
from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.smoke import SMOKE_VARIABLE, smoke_check
from pytest_iterbench.orchestrator.steps import Outcome, StepContext

CODE_TOOL = "submit_iteration_code"
#: A model's answer that is one Python module: the code, and optionally why.
CODE_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code"],
    "additionalProperties": False,
    "properties": {"code": {"type": "string"}, "explanation": {"type": "string"}},
}
STUB_MARKER = "was planned but its code is not written yet"
WRITER_SYSTEM = f"""\
You write one iteration of a machine-learning benchmark: a Python file whose function \
run(parameters: dict) -> dict trains and evaluates one approach and returns its outputs. \
Classification metrics read the outputs "y_true" and "y_pred" (lists of labels of the \
test set). Use the parameters given (a "seed" among them). Keep it short, deterministic \
and quick; when the environment variable {SMOKE_VARIABLE} is set, the run is a smoke \
check and may use a small part of the data. Answer by calling {CODE_TOOL}."""


class Reviewer(Protocol):
    def review(
        self, failure: Failure, *, iteration_id: str | None = None, attempt: int | None = None
    ) -> Review: ...


class CodeWriter(Protocol):
    """Writes an iteration's entry point from its plan entry (``feedback``: the last failure)."""

    def write(self, task: str, entry: dict[str, Any], feedback: str = "") -> str: ...


def python_code_problems(tool: str, code: Any, what: str) -> list[Problem]:
    """A model's ``code`` answer (through ``tool``) is non-empty Python that parses; else why not."""
    if not isinstance(code, str) or not code.strip():
        return [Problem(tool, "code", f"expected {what}")]
    problem = code_problem(code)
    if problem:
        return [Problem(tool, "code", f"not valid Python: {problem}")]
    return []


def _code_checker(data: dict[str, Any]) -> list[Problem]:
    code: Any = data.get("code")
    problems = python_code_problems(CODE_TOOL, code, "the file's Python code")
    if problems:
        return problems
    if not _defines_run(code):
        return [Problem(CODE_TOOL, "code", "expected a top-level function run(parameters)")]
    return []


def _defines_run(code: str) -> bool:
    tree = ast.parse(code)
    return any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body)


@dataclass
class ClaudeCodeWriter:
    """Asks a model for an iteration's code through the ``submit_iteration_code`` tool."""

    sender: MessageSender
    repair_rounds: int = 1

    def write(self, task: str, entry: dict[str, Any], feedback: str = "") -> str:
        tool = Tool(CODE_TOOL, "Submit the complete entry point file.", CODE_ANSWER_SCHEMA)
        ask = Ask(self.sender, "solver", tool, _code_checker, self.repair_rounds, entry["id"])
        user = f"Task: {task}\n\nThe iteration (plan entry):\n{json.dumps(entry, indent=2)}"
        if feedback:
            user += f"\n\nYour previous code failed:\n{feedback}"
        result = ask_structured(ask, WRITER_SYSTEM, user)
        if not result.ok or result.data is None:
            raise StepFailed(f"implement:{entry['id']}", "; ".join(map(str, result.problems)))
        code: str = result.data["code"]
        return code if code.endswith("\n") else code + "\n"


def needs_code(path: Path) -> bool:
    """Whether the entry point is missing or still the stub that ``--apply`` wrote."""
    try:
        return STUB_MARKER in path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return True


@dataclass
class Implementer:
    """Everything the implement steps share: the workspace, the task, the model's roles."""

    root: Path
    task: str
    writer: CodeWriter | None
    reviewer: Reviewer | None
    rounds: int = 2
    kill: Callable[[str, str], None] | None = None

    def action(self, entry: dict[str, Any]) -> Callable[[StepContext], Outcome]:
        return lambda context: self.implement(entry)

    def implement(self, entry: dict[str, Any]) -> Outcome:
        path = self.root / entry["source_path"] / entry["entry_point"]
        relative = path.relative_to(self.root).as_posix()
        if needs_code(path):
            if self.writer is None:
                raise StepFailed(
                    f"implement:{entry['id']}",
                    f"{relative}: expected the iteration's code, found a stub or nothing (only "
                    "the claude-api planner writes code: write it by hand, then --resume)",
                )
            self._write(path, self.writer.write(self.task, entry))
            self._maybe_kill(entry["id"])
        attempts = self._check_and_fix(entry, path)
        return Outcome("done", [relative], {"attempts": attempts})

    def _check_and_fix(self, entry: dict[str, Any], path: Path) -> int:
        iteration_id = entry["id"]

        def solve(number: int, review: Review | None) -> str:
            if review is not None and review.fix_kind == "code" and review.code:
                self._write(path, review.code)
            return path.read_text(encoding="utf-8")

        def validate(code: str) -> Failure | None:
            failure = smoke_check(self.root, iteration_id)
            return None if failure is None else Failure(
                failure.kind, failure.message, failure.traceback, iteration_id, code
            )  # fmt: skip

        def review(number: int, failure: Failure) -> Review:
            if self.reviewer is None:
                raise StepFailed(f"implement:{iteration_id}", f"smoke check: {failure.message}")
            return self.reviewer.review(failure, iteration_id=iteration_id, attempt=number)

        try:
            result = review_loop(solve, validate, review, max_attempts=self.rounds + 1)
        except ReviewLoopExhausted as exc:
            raise StepFailed(f"implement:{iteration_id}", f"smoke check: {exc}") from exc
        except LlmError as exc:
            raise StepFailed(f"implement:{iteration_id}", str(exc)) from exc
        return len(result.attempts)

    def _write(self, path: Path, code: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, code if code.endswith("\n") else code + "\n")

    def _maybe_kill(self, iteration_id: str) -> None:
        if self.kill is not None:
            self.kill(f"implement:{iteration_id}", "written")
