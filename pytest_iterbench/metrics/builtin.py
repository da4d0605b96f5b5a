"""Built-in metrics, with the seed's names.

Quality metrics read the iteration's outputs ``y_true`` and ``y_pred``; the
performance metrics read what the harness measured while the entry point ran
(wall and CPU time, peak RSS above the process baseline, torch's GPU peak).
Each also works through the seed's ``measure(iteration_path, entry_point,
parameters)``, which executes the entry point in isolation first.
"""

from __future__ import annotations

import tempfile
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import GpuUnavailableError, IterbenchError, MetricSkipped
from pytest_iterbench.execution.executor import Execution, Executor, Limits
from pytest_iterbench.execution.isolation import ProcessTemplate
from pytest_iterbench.execution.preload import resolve_preload
from pytest_iterbench.execution.timing import TimingPlan
from pytest_iterbench.execution.timing_stats import timing_metadata
from pytest_iterbench.metrics.base import BaseMetric, MetricResult, cuda_available
from pytest_iterbench.workspace.model import Iteration


@contextmanager
def standalone_executor(
    iteration_path: str, entry_point: str, parameters: dict[str, Any]
) -> Iterator[tuple[Executor, Iteration]]:
    """An executor and its iteration outside a pytest session (the seed's ``measure`` path)."""
    directory = Path(iteration_path).resolve()
    iteration = Iteration(
        id=directory.name or "iteration",
        source_path=str(directory),
        entry_point=entry_point,
        parameters=dict(parameters),
    )
    template = ProcessTemplate(resolve_preload(["auto"], [directory]))
    try:
        with tempfile.TemporaryDirectory(prefix="iterbench-") as scratch:
            yield Executor(directory, Path(scratch), {".py": template.execute}, Limits()), iteration
    finally:
        template.close()


def execute_standalone(
    iteration_path: str, entry_point: str, parameters: dict[str, Any]
) -> Execution:
    """Run one entry point in isolation, outside a pytest session."""
    with standalone_executor(iteration_path, entry_point, parameters) as (executor, iteration):
        return executor.get(iteration)


class ExecutionMetric(BaseMetric):
    """A metric computed from an ``Execution``: subclasses implement ``from_execution``."""

    def measure(
        self, iteration_path: str, entry_point: str, parameters: dict[str, Any]
    ) -> MetricResult:
        return self.measure_execution(execute_standalone(iteration_path, entry_point, parameters))

    def measure_execution(self, execution: Execution) -> MetricResult:
        execution.raise_for_status()
        return self.from_execution(execution)

    @abstractmethod
    def from_execution(self, execution: Execution) -> MetricResult:
        """The measurement, from a successful execution."""


def _labels(execution: Execution) -> tuple[Any, Any]:
    missing = [key for key in ("y_true", "y_pred") if key not in execution.outputs]
    if missing:
        found = ", ".join(sorted(map(str, execution.outputs))) or "(none)"
        raise IterbenchError(
            f"iteration {execution.iteration.id!r}: run() outputs lack {', '.join(missing)}; found keys: {found}"
        )
    return execution.outputs["y_true"], execution.outputs["y_pred"]


def _plain_labels(y_true: Any, y_pred: Any) -> tuple[list[Any], list[Any]] | None:
    """Both label sequences as lists when sklearn's answer is plain counting, else None.

    That is: two non-empty lists, tuples or 1-D integer/string numpy arrays of
    equal length whose labels are all ``int`` or all ``str`` (``bool`` excluded),
    the same kind on both sides. Anything else (floats, mixed types, multilabel,
    mismatched lengths) goes to ``sklearn.metrics``, which validates it and
    raises its own errors. Importing scikit-learn costs about a second in every
    process that scores; for the plain case the counts below give the same
    float (``tests/test_builtin_scores.py`` checks it against sklearn).
    """
    true_list, pred_list = _as_list(y_true), _as_list(y_pred)
    if not true_list or pred_list is None or len(true_list) != len(pred_list):
        return None
    kind = type(true_list[0])
    if kind not in (int, str) or not all(type(v) is kind for v in (*true_list, *pred_list)):
        return None
    return true_list, pred_list


def _as_list(values: Any) -> list[Any] | None:
    if isinstance(values, list | tuple):
        return list(values)
    is_array = type(values).__module__ == "numpy" and type(values).__name__ == "ndarray"
    if is_array and values.ndim == 1 and values.dtype.kind in "iuU":
        return list(values.tolist())
    return None


def _f1_macro(y_true: list[Any], y_pred: list[Any]) -> float:
    """sklearn's ``f1_score(average="macro")``: per label ``2 tp / (true + predicted)``, numpy's mean."""
    true_counts: dict[Any, int] = {}
    pred_counts: dict[Any, int] = {}
    hits: dict[Any, int] = {}
    for true, pred in zip(y_true, y_pred, strict=True):
        true_counts[true] = true_counts.get(true, 0) + 1
        pred_counts[pred] = pred_counts.get(pred, 0) + 1
        if true == pred:
            hits[true] = hits.get(true, 0) + 1
    scores = [
        2.0 * hits.get(label, 0) / (true_counts.get(label, 0) + pred_counts.get(label, 0))
        for label in sorted(true_counts.keys() | pred_counts.keys())
    ]
    return numpy_mean(scores)


def numpy_mean(values: list[float]) -> float:
    """``float(numpy.mean(values))`` to the last bit, without importing numpy (a quarter of a second).

    numpy sums float64 pairwise (``pairwise_sum`` in its ``loops_utils``): runs
    under 8 in order; up to 128 in eight interleaved partial sums, combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the rest in
    order; longer runs split in two at a multiple of 8 below the half. The mean
    divides that sum by the count. ``tests/test_builtin_scores.py`` compares
    the two on random data, up to 100,000 values.
    """
    return (0.0 + _pairwise_sum(values, 0, len(values))) / len(values)


def _pairwise_sum(values: list[float], start: int, count: int) -> float:
    if count < 8:
        total = 0.0
        for value in values[start : start + count]:
            total += value
        return total
    if count <= 128:
        partial = values[start : start + 8]
        whole = count - count % 8
        for block in range(start + 8, start + whole, 8):
            for lane in range(8):
                partial[lane] += values[block + lane]
        total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
            (partial[4] + partial[5]) + (partial[6] + partial[7])
        )
        for value in values[start + whole : start + count]:
            total += value
        return total
    half = count // 2
    half -= half % 8
    return _pairwise_sum(values, start, half) + _pairwise_sum(values, start + half, count - half)


class _ClassificationMetric(ExecutionMetric):
    """A score in [0, 1] from sklearn.metrics, reported in % when the metric's unit is '%'."""

    def score(self, y_true: Any, y_pred: Any) -> float:
        raise NotImplementedError

    def from_execution(self, execution: Execution) -> MetricResult:
        y_true, y_pred = _labels(execution)
        value = self.score(y_true, y_pred)
        if self.unit == "%":
            value *= 100
        return MetricResult(self.metric_id, value, self.unit, {"n_samples": len(y_true)})


class AccuracyMetric(_ClassificationMetric):
    """Share of correct predictions (``sklearn.metrics.accuracy_score``)."""

    metric_id = "accuracy"
    unit = "%"

    def score(self, y_true: Any, y_pred: Any) -> float:
        labels = _plain_labels(y_true, y_pred)
        if labels is not None:
            return float(sum(t == p for t, p in zip(*labels, strict=True)) / len(labels[0]))
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y_true, y_pred))


class F1MacroMetric(_ClassificationMetric):
    """Macro-averaged F1 (``sklearn.metrics.f1_score(average="macro")``)."""

    metric_id = "f1_macro"
    unit = ""

    def score(self, y_true: Any, y_pred: Any) -> float:
        labels = _plain_labels(y_true, y_pred)
        if labels is not None:
            return _f1_macro(*labels)
        from sklearn.metrics import f1_score

        return float(f1_score(y_true, y_pred, average="macro"))


class ExecutionTimeMetric(ExecutionMetric):
    """Wall-clock seconds of the entry point, once: importing it plus ``run(parameters)``.

    A run that includes this metric executes its iterations exclusively under
    xdist (nothing else runs meanwhile), so the time is not inflated by a
    neighbour; for statistics over rounds, use ``TimingMetric``.
    """

    metric_id = "exec_time"
    higher_is_better = False
    unit = "seconds"
    exclusive_execution = True

    def from_execution(self, execution: Execution) -> MetricResult:
        metadata: dict[str, Any] = {**execution.timings, "exclusive": execution.exclusive}
        return MetricResult(self.metric_id, execution.timings["wall_seconds"], self.unit, metadata)


class TimingMetric(BaseMetric):
    """Calibrated timing of ``run(parameters)``: warm-up, rounds, statistics; the value is the median.

    Runs in a fresh child of its own, holding the session's measurement lock
    exclusively. Options (``metrics.json``'s ``options``, overridden by an
    iteration's ``timing``): ``warmup_rounds``, ``min_rounds``, ``max_rounds``,
    ``max_time``, ``rounds`` (``{"rounds": 1, "warmup_rounds": 0}`` for an
    expensive iteration), ``disable_gc``. The record's metadata holds min, max,
    mean, stddev, median, IQR, quartiles, outliers, ops and the raw rounds
    (pytest-benchmark's statistics).
    """

    metric_id = "timing"
    higher_is_better = False
    unit = "seconds"

    def __init__(self, **options: Any) -> None:
        self.options = options
        TimingPlan.from_json(options)  # reject unknown options at once

    def plan_for(self, iteration: Iteration) -> TimingPlan:
        """The metric's options, overridden by the iteration's ``timing``."""
        return TimingPlan.from_json({**self.options, **iteration.timing})

    def measure(
        self, iteration_path: str, entry_point: str, parameters: dict[str, Any]
    ) -> MetricResult:
        with standalone_executor(iteration_path, entry_point, parameters) as (executor, iteration):
            timed = executor.time(iteration, self.plan_for(iteration))
        return self.from_timed(timed, {"exclusive": True})

    def from_timed(self, execution: Execution, context: dict[str, Any]) -> MetricResult:
        """The result from a timed execution (``Executor.time``)."""
        execution.raise_for_status()
        assert execution.timed_rounds is not None
        metadata = timing_metadata(execution.timed_rounds, context)
        return MetricResult(self.metric_id, metadata["median"], self.unit, metadata)


class PeakMemoryMetric(ExecutionMetric):
    """Peak RSS the iteration added to its own fresh process, in MB."""

    metric_id = "peak_memory"
    higher_is_better = False
    unit = "MB"

    def from_execution(self, execution: Execution) -> MetricResult:
        resources = execution.resources
        if "peak_rss_above_baseline_mb" not in resources:
            raise MetricSkipped(
                f"peak memory is not measured for {execution.iteration.entry_point} (a notebook runs in a kernel process of its own)"
            )
        metadata = {
            "baseline_rss_mb": resources["baseline_rss_mb"],
            "peak_rss_mb": resources["peak_rss_mb"],
        }
        return MetricResult(
            self.metric_id, resources["peak_rss_above_baseline_mb"], self.unit, metadata
        )


class GpuMemoryMetric(ExecutionMetric):
    """torch's peak allocated CUDA memory during the iteration, in MB; skipped without CUDA."""

    metric_id = "gpu_memory"
    higher_is_better = False
    unit = "MB"

    def from_execution(self, execution: Execution) -> MetricResult:
        gpu = execution.resources.get("gpu") or {}
        if gpu.get("cuda_used"):
            metadata = {"device": gpu["device"], "peak_reserved_mb": gpu["peak_reserved_mb"]}
            return MetricResult(self.metric_id, gpu["peak_allocated_mb"], self.unit, metadata)
        available, reason = cuda_available()
        if not available:
            raise GpuUnavailableError(reason)
        return MetricResult(self.metric_id, 0.0, self.unit, {"cuda_used": False})
