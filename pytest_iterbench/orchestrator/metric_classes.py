"""The implement step of a metric class (the seed's D4): written by the model, checked before it counts.

A plan made by a model may name a class ``metrics.<module>.<Class>`` that the
workspace lacks; applying the plan writes a stub there (``llm.apply``). The
step ``metric:<id>`` has the model write the module (a subclass of
``pytest_iterbench.metrics.BaseMetric``), then checks it: it imports, it is
a ``BaseMetric`` subclass, and its ``measure_execution`` (by default its
``measure``) returns a ``MetricResult`` on the smoke execution of an
iteration of a run that reads it. A failure goes to the reviewer, whose fix
is checked again, at most ``rounds`` times. Without a model (the ``manual``
planner) the class must already be written: the step only checks it.
"""

from __future__ import annotations

import ast
import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.llm.errors import LlmError, ReviewLoopExhausted
from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.llm.reviewer import review_loop
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured
from pytest_iterbench.metrics import BaseMetric, MetricResult
from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.implement import (
    CODE_ANSWER_SCHEMA,
    Reviewer,
    needs_code,
    python_code_problems,
)
from pytest_iterbench.orchestrator.smoke import execution_failure, instantiate, smoke_execution
from pytest_iterbench.orchestrator.steps import Outcome, StepContext
from pytest_iterbench.workspace.files import forget_modules
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.paths import WorkspacePaths

METRIC_TOOL = "submit_metric_class"
METRIC_SYSTEM = f"""\
You write one metric class of a machine-learning benchmark: a Python module that defines \
the class named below as a subclass of pytest_iterbench.metrics.BaseMetric \
(from pytest_iterbench.metrics import BaseMetric, MetricResult). To measure what an \
iteration's run(parameters) returned, override measure_execution(self, execution): \
execution.outputs is that dict; return MetricResult(metric_id=self.metric_id, value=..., \
unit=self.unit). A metric of the code itself overrides measure(self, iteration_path, \
entry_point, parameters) instead. Keep it short and deterministic. Answer by calling {METRIC_TOOL}."""


class MetricWriter(Protocol):
    """Writes a metric class's module from its plan entry (``feedback``: the last failure)."""

    def write_metric(self, task: str, entry: dict[str, Any], feedback: str = "") -> str: ...


def module_file(root: Path, class_path: str) -> Path | None:
    """The module of a workspace metric class ``metrics.<module>.<Class>``; None for others."""
    folder = WorkspacePaths(root).metric_tests_dir
    parts = class_path.split(".")
    if len(parts) == 3 and parts[0] == folder.name:
        return folder / f"{parts[1]}.py"
    return None


@dataclass
class ClaudeMetricWriter:
    """Asks a model for a metric class through the ``submit_metric_class`` tool."""

    sender: MessageSender
    repair_rounds: int = 1

    def write_metric(self, task: str, entry: dict[str, Any], feedback: str = "") -> str:
        name = entry["class"].rpartition(".")[2]
        tool = Tool(
            METRIC_TOOL, "Submit the complete module of the metric class.", CODE_ANSWER_SCHEMA
        )
        ask = Ask(self.sender, "solver", tool, _checker(name), self.repair_rounds, entry["id"])
        user = f"Task: {task}\n\nThe class to write: {name}\nThe metric (plan entry):\n"
        user += json.dumps(entry, indent=2)
        if feedback:
            user += f"\n\nYour previous code failed:\n{feedback}"
        result = ask_structured(ask, METRIC_SYSTEM, user)
        if not result.ok or result.data is None:
            raise StepFailed(f"metric:{entry['id']}", "; ".join(map(str, result.problems)))
        code: str = result.data["code"]
        return code if code.endswith("\n") else code + "\n"


def _checker(name: str) -> Callable[[dict[str, Any]], list[Problem]]:
    def check(data: dict[str, Any]) -> list[Problem]:
        code: Any = data.get("code")
        problems = python_code_problems(METRIC_TOOL, code, "the module's Python code")
        if problems:
            return problems
        classes = [n.name for n in ast.parse(code).body if isinstance(n, ast.ClassDef)]
        if name not in classes:
            return [
                Problem(METRIC_TOOL, "code", f"expected a top-level class {name}, found {classes}")
            ]
        return []

    return check


def metric_check(root: Path, metric_id: str) -> Failure | None:
    """None when the metric's class imports, is a ``BaseMetric`` and measures a smoke execution."""
    forget_modules(WorkspacePaths(root).metric_tests_dir.name)
    try:
        workspace = Workspace.load(root)
    except WorkspaceError as exc:
        return Failure("import", str(exc), target=metric_id)
    definition = workspace.metrics[metric_id]
    cls = workspace.metric_classes[metric_id]
    if not (isinstance(cls, type) and issubclass(cls, BaseMetric)):
        message = f"{definition.class_path}: expected a subclass of BaseMetric, found {cls!r}"
        return Failure("check", message, target=metric_id)
    iteration = _reader(workspace, metric_id)
    if iteration is None:
        return None  # no run reads it yet: importing is all there is to check
    execution = smoke_execution(root, workspace.iterations[iteration])
    failed = execution_failure(execution)
    if failed is not None:
        message = f"iteration {iteration!r} failed its smoke run: {failed.message}"
        return Failure("smoke", message, failed.traceback, metric_id)
    try:
        result = instantiate(workspace, metric_id).measure_execution(execution)
    except Exception as exc:  # the model's code: any failure is the reviewer's to see
        found = ", ".join(sorted(map(str, execution.outputs))) or "(none)"
        message = f"measure raised {type(exc).__name__}: {exc} (the outputs: {found})"
        return Failure("metric", message, traceback.format_exc(), metric_id)
    if not isinstance(result, MetricResult):
        message = f"expected measure_execution() to return a MetricResult, found {result!r}"
        return Failure("metric", message, target=metric_id)
    return None


def _reader(workspace: Workspace, metric_id: str) -> str | None:
    """The first ``.py`` iteration of a run that reads the metric."""
    for run in workspace.runs.values():
        if metric_id in run.metric_ids:
            for iteration in run.iteration_ids:
                if workspace.iterations[iteration].entry_point.endswith(".py"):
                    return iteration
    return None


@dataclass
class MetricImplementer:
    """The implement steps of metric classes: write (with a model), then check and fix."""

    root: Path
    task: str
    writer: MetricWriter | None
    reviewer: Reviewer | None
    rounds: int = 2

    def action(self, entry: dict[str, Any], path: Path) -> Callable[[StepContext], Outcome]:
        return lambda context: self.implement(entry, path)

    def implement(self, entry: dict[str, Any], path: Path) -> Outcome:
        step = f"metric:{entry['id']}"
        relative = path.relative_to(self.root).as_posix()
        if needs_code(path):
            if self.writer is None:
                raise StepFailed(step, f"{relative}: expected the metric class {entry['class']}, "
                                       "found a stub or nothing (the manual planner writes none)")  # fmt: skip
            self._write(path, self.writer.write_metric(self.task, entry))
        return Outcome("done", [relative], {"attempts": self._check_and_fix(step, entry, path)})

    def _check_and_fix(self, step: str, entry: dict[str, Any], path: Path) -> int:
        def solve(number: int, review: Review | None) -> str:
            if review is not None and review.fix_kind == "code" and review.code:
                self._write(path, review.code)
            return path.read_text(encoding="utf-8")

        def validate(code: str) -> Failure | None:
            failure = metric_check(self.root, entry["id"])
            return None if failure is None else Failure(
                failure.kind, failure.message, failure.traceback, entry["id"], code
            )  # fmt: skip

        def review(number: int, failure: Failure) -> Review:
            if self.reviewer is None:
                raise StepFailed(step, f"check: {failure.message}")
            return self.reviewer.review(failure, iteration_id=entry["id"], attempt=number)

        try:
            result = review_loop(solve, validate, review, max_attempts=self.rounds + 1)
        except ReviewLoopExhausted as exc:
            raise StepFailed(step, f"check: {exc}") from exc
        except LlmError as exc:
            raise StepFailed(step, str(exc)) from exc
        return len(result.attempts)

    def _write(self, path: Path, code: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, code if code.endswith("\n") else code + "\n")
