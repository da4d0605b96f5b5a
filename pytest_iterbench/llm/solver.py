"""The solver role: answer one exercise of an assignment, as structured output.

``ClaudeExerciseSolver.solve(task)`` sends the exercise's instruction (with
its images as image blocks), the answer cell as the assignment gives it, the
checks after it, the notebook's earlier cells as context and the folder's
``instructions.md``; the model answers through a ``submit_solution`` tool,
one text per answer region (code or Markdown). The answer is checked before
anyone writes it (the number of regions, code that parses, names unique) and
the model sees every problem once more before the call fails.

The notebook processor builds ``ExerciseTask`` from its own exercises; this
module knows nothing of notebooks, so a local model can stand in through the
same ``MessageSender``.

>>> solver = ClaudeExerciseSolver(client)  # doctest: +SKIP
>>> [a.regions for a in solver.solve(task)]  # doctest: +SKIP
[('return [i * i for i in range(n)]',)]
"""

from __future__ import annotations

import ast
import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.costs import CostTotals
from pytest_iterbench.llm.errors import ModelAnswerInvalid
from pytest_iterbench.llm.messages import LlmRequest, LlmResponse, MessageSender
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured
from pytest_iterbench.llm.traces import Role

SOLUTION_TOOL = "submit_solution"
#: What the Messages API accepts as image blocks.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
RegionKind = Literal["code", "markdown"]
_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.M)

SOLVER_SYSTEM = """\
You solve one exercise of a programming assignment notebook (a course's homework). You get \
the instruction (its text and images), the answer cell as the assignment gives it (with its \
placeholders), the checks that run after it, and the notebook's earlier cells. Answer by \
calling submit_solution with one text per answer region, in order: for a code region, the \
code that replaces the placeholder, unindented (it is indented to the region for you), using \
only names the notebook defines or imports; for a Markdown region, the written answer. The \
checks must pass when the notebook runs from the top. Keep the code short and plain."""


def solution_schema(regions: int, alternatives: int) -> dict[str, Any]:
    """The ``submit_solution`` input: 1 to ``alternatives`` solutions of ``regions`` texts."""
    return {
        "type": "object",
        "required": ["solutions"],
        "additionalProperties": False,
        "properties": {
            "solutions": {
                "type": "array",
                "minItems": 1,
                "maxItems": max(1, alternatives),
                "items": {
                    "type": "object",
                    "required": ["name", "regions"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"},
                        "regions": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": regions,
                            "maxItems": regions,
                        },
                        "explanation": {"type": "string"},
                    },
                },
            }
        },
    }


@dataclass(frozen=True)
class TaskImage:
    """An image of the instruction (or of ``images/`` beside the notebook)."""

    name: str
    mime: str
    data: bytes

    def block(self) -> dict[str, Any] | None:
        """The image block, or None for a type the API does not take (SVG)."""
        if self.mime not in IMAGE_TYPES:
            return None
        data = base64.b64encode(self.data).decode("ascii")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": self.mime, "data": data},
        }


@dataclass(frozen=True)
class ExerciseTask:
    """Everything the model is told about one exercise."""

    exercise_id: str
    instruction: str
    region_kinds: tuple[RegionKind, ...]
    answer_source: str
    checks: str = ""
    context: str = ""
    images: tuple[TaskImage, ...] = ()
    instructions_md: str = ""
    feedback: str = ""  # the previous attempt's failure and review

    def content(self, alternatives: int) -> list[dict[str, Any]]:
        """The user message: text blocks, then the images, each after its name."""
        kinds = ", ".join(f"{n}: {k}" for n, k in enumerate(self.region_kinds, start=1))
        parts = [
            f"Exercise {self.exercise_id}. Answer regions ({len(self.region_kinds)}): {kinds}.",
            f"Instruction:\n{self.instruction or '(none)'}",
            f"The answer cell as given:\n```\n{self.answer_source}\n```",
        ]
        if self.checks:
            parts.append(f"The checks after it:\n```\n{self.checks}\n```")
        if self.context:
            parts.append(f"The notebook's earlier cells:\n```\n{self.context}\n```")
        if self.instructions_md:
            parts.append(f"The assignment's instructions.md:\n{self.instructions_md}")
        if alternatives > 1:
            parts.append(f"Give up to {alternatives} genuinely different solutions, each named.")
        if self.feedback:
            parts.append(f"Your previous answer failed:\n{self.feedback}")
        blocks: list[dict[str, Any]] = [{"type": "text", "text": "\n\n".join(parts)}]
        for image in self.images:
            block = image.block()
            if block is not None:
                blocks += [{"type": "text", "text": f"Image {image.name}:"}, block]
        return blocks


@dataclass(frozen=True)
class SolvedAnswer:
    """One solution: its name and one text per answer region."""

    name: str
    regions: tuple[str, ...]
    explanation: str = ""


def code_problem(code: str) -> str | None:
    """Why ``code`` does not parse as Python (IPython magics allowed), or None."""
    try:
        ast.parse(_MAGIC.sub(r"\1pass", code))
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


def _checker(task: ExerciseTask, alternatives: int) -> Any:
    schema = solution_schema(len(task.region_kinds), alternatives)

    def check(data: dict[str, Any]) -> list[Problem]:
        import jsonschema

        problems = [
            Problem(SOLUTION_TOOL, ".".join(map(str, e.absolute_path)), e.message)
            for e in jsonschema.Draft202012Validator(schema).iter_errors(data)
        ]
        if problems:
            return problems
        names = [s["name"] for s in data["solutions"]]
        if len(set(names)) != len(names):
            problems.append(Problem(SOLUTION_TOOL, "solutions", f"names repeat: {names}"))
        for number, solution in enumerate(data["solutions"]):
            for region, (text, kind) in enumerate(
                zip(solution["regions"], task.region_kinds, strict=True)
            ):
                where = f"solutions.{number}.regions.{region}"
                if not text.strip():
                    problems.append(Problem(SOLUTION_TOOL, where, "empty answer"))
                elif kind == "code" and (problem := code_problem(text)):
                    problems.append(Problem(SOLUTION_TOOL, where, f"not valid Python: {problem}"))
        return problems

    return check


class ClaudeExerciseSolver:
    """Asks a model for an exercise's answer regions; one repair round on an invalid answer."""

    def __init__(self, sender: MessageSender, *, repair_rounds: int = 1) -> None:
        self.sender = sender
        self.repair_rounds = repair_rounds

    def solve(
        self,
        task: ExerciseTask,
        *,
        alternatives: int = 1,
        iteration_id: str | None = None,
        attempt: int | None = None,
    ) -> list[SolvedAnswer]:
        """The model's solutions (checked); ``ModelAnswerInvalid`` when none is valid."""
        tool = Tool(
            SOLUTION_TOOL,
            "Submit the answer regions' texts, one per region, in order.",
            solution_schema(len(task.region_kinds), alternatives),
        )
        ask = Ask(
            self.sender, "solver", tool, _checker(task, alternatives), self.repair_rounds,
            iteration_id,
        )  # fmt: skip
        result = ask_structured(ask, SOLVER_SYSTEM, task.content(alternatives), attempt)
        if not result.ok or result.data is None:
            found = "; ".join(str(p) for p in result.problems)
            raise ModelAnswerInvalid("solver", "a valid submit_solution call", found)
        return [
            SolvedAnswer(s["name"], tuple(s["regions"]), s.get("explanation", ""))
            for s in result.data["solutions"]
        ]


class CostMeter:
    """A ``MessageSender`` that forwards to another and sums what its calls cost."""

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender
        self.totals = CostTotals()

    @property
    def model(self) -> str:
        return self.sender.model

    def send(
        self,
        request: LlmRequest,
        *,
        role: Role,
        iteration_id: str | None = None,
        attempt: int | None = None,
    ) -> LlmResponse:
        response = self.sender.send(request, role=role, iteration_id=iteration_id, attempt=attempt)
        self.totals.add(response.trace)
        return response
