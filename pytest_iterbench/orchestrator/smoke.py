"""The smoke check: an iteration's code counts only once it runs and feeds its metrics.

The entry point runs once through the harness's own isolated executor (a
process template, a fork per execution) under a small time budget, with
``ITERBENCH_SMOKE=1`` in its environment (code may read it to shrink its
work); then every metric of every run that includes the iteration and reads
an execution (``ExecutionMetric``: accuracy, F1, time, memory) measures that
execution. A crash, a timeout or a missing output becomes a ``Failure``
with the reason, the traceback and the log's tail, for the reviewer.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.execution.executor import Execution, Executor, Limits
from pytest_iterbench.execution.isolation import ProcessTemplate
from pytest_iterbench.llm.review_types import Failure
from pytest_iterbench.metrics.builtin import ExecutionMetric
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import Iteration
from pytest_iterbench.workspace.paths import WorkspacePaths

SMOKE_VARIABLE = "ITERBENCH_SMOKE"
DEFAULT_BUDGET_SECONDS = 120.0


def smoke_check(
    root: Path, iteration_id: str, budget: float = DEFAULT_BUDGET_SECONDS
) -> Failure | None:
    """None when ``iteration_id`` runs and its metrics can read its outputs; the failure else."""
    workspace = Workspace.load(root)
    iteration = workspace.iterations[iteration_id]
    if not iteration.entry_point.endswith(".py"):
        return None  # notebooks are checked by their own runner when the run executes them
    execution = smoke_execution(root, iteration, budget)
    return execution_failure(execution) or _metric_failure(workspace, execution)


def smoke_execution(
    root: Path, iteration: Iteration, budget: float = DEFAULT_BUDGET_SECONDS
) -> Execution:
    """One smoke execution of a ``.py`` iteration (``ITERBENCH_SMOKE=1``, a small budget)."""
    scratch = WorkspacePaths(root).orchestrator_dir / "smoke" / iteration.id
    shutil.rmtree(scratch, ignore_errors=True)
    template = ProcessTemplate([], environment={SMOKE_VARIABLE: "1"})
    try:
        executor = Executor(root, scratch, {".py": template.execute}, Limits(timeout=budget))
        return executor.get(iteration)
    finally:
        template.close()
        shutil.rmtree(scratch, ignore_errors=True)


def execution_failure(execution: Execution) -> Failure | None:
    """None when the execution ran; else its reason, traceback and log tail."""
    if execution.ok:
        return None
    message = f"run() {execution.status}: {execution.reason}"
    tail = execution.log_tail()
    traceback = (execution.traceback or "") + (f"\nlast lines printed:\n{tail}" if tail else "")
    return Failure("smoke", message, traceback, target=execution.id)


def _metric_failure(workspace: Workspace, execution: Execution) -> Failure | None:
    for metric_id in _metrics_of(workspace, execution.id):
        metric = instantiate(workspace, metric_id)
        if not isinstance(metric, ExecutionMetric):
            continue
        try:
            metric.measure_execution(execution)
        except (IterbenchError, KeyError, TypeError, ValueError) as exc:
            found = ", ".join(sorted(map(str, execution.outputs))) or "(none)"
            message = f"metric {metric_id!r} cannot read the outputs: {exc} (outputs: {found})"
            return Failure("smoke", message, target=execution.id)
    return None


def _metrics_of(workspace: Workspace, iteration_id: str) -> list[str]:
    found: dict[str, None] = {}
    for run in workspace.runs.values():
        if iteration_id in run.iteration_ids:
            found.update(dict.fromkeys(run.metric_ids))
    return [m for m in found if m in workspace.metric_classes]


def instantiate(workspace: Workspace, metric_id: str) -> Any:
    """The metric's class, made with its options, its id and unit set (as the harness does)."""
    definition = workspace.metrics[metric_id]
    metric = workspace.metric_classes[metric_id](**definition.options)
    for attribute, value in (("metric_id", definition.id), ("unit", definition.unit)):
        with contextlib.suppress(AttributeError):
            setattr(metric, attribute, value)
    return metric
