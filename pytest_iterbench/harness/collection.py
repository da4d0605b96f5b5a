"""Collection: the run's (iteration, metric) pairs as pytest items.

Metrics with a ``class`` become ``MetricItem``s under ``runs.json::<run>``, with
ids like ``runs.json::run-001::v1-baseline-accuracy`` so that ``-k`` and
``--lf`` work. Metric tests (test functions taking the ``iteration`` fixture and
marked ``@pytest.mark.metric(ID)``) are parametrized over the run's iterations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.metrics.base import BaseMetric
from pytest_iterbench.metrics.builtin import TimingMetric

if TYPE_CHECKING:
    from pytest_iterbench.harness.session import IterbenchSession

METRIC_MARKER = "metric"


@dataclass(frozen=True)
class Target:
    """What an item measures: one metric of one execution (repeat) of one iteration."""

    iteration_id: str
    metric_id: str
    repeat: int = 0
    seed: int | None = None


def slot_suffix(repeat: int, count: int) -> str:
    """``-r2`` for the third repeat, nothing when the iteration runs once."""
    return f"-r{repeat}" if count > 1 else ""


TARGET_KEY = pytest.StashKey[Target]()


def item_target(item: pytest.Item) -> Target | None:
    """The pair an item measures, or None for an ordinary test."""
    return item.stash.get(TARGET_KEY, None)


class RunFile(pytest.File):
    """``runs.json`` of the workspace: yields the selected run."""

    def __init__(self, *, state: IterbenchSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    def collect(self) -> Iterator[RunCollector]:
        yield RunCollector.from_parent(self, name=self.state.run.id, state=self.state)


class RunCollector(pytest.Collector):
    """One run: an item per iteration × metric that has a class."""

    def __init__(self, *, state: IterbenchSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    def collect(self) -> Iterator[MetricItem]:
        run = self.state.run
        for iteration_id in run.iteration_ids:
            seeds = run.repeat_seeds(self.state.workspace.iterations[iteration_id])
            for repeat, seed in enumerate(seeds):
                for metric_id in run.metric_ids:
                    if metric_id not in self.state.workspace.metric_classes:
                        continue  # produced by a metric test
                    name = f"{iteration_id}-{metric_id}{slot_suffix(repeat, len(seeds))}"
                    item = MetricItem.from_parent(self, name=name, state=self.state)
                    item.stash[TARGET_KEY] = Target(iteration_id, metric_id, repeat, seed)
                    yield item


class MetricItem(pytest.Item):
    """Measures one iteration with one metric class, from the iteration's shared execution."""

    def __init__(self, *, state: IterbenchSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    def runtest(self) -> None:
        target = self.stash[TARGET_KEY]
        metric = self.state.instantiate_metric(target.metric_id)
        _call_hook(metric, "setup")
        try:
            if isinstance(metric, TimingMetric):
                result = self.state.timed_result(metric, target)
            else:
                execution = self.state.execution(target)
                measure = (
                    metric.measure_execution
                    if isinstance(metric, BaseMetric)
                    else _seed_measure(metric)
                )
                result = measure(execution)
        finally:
            _call_hook(metric, "teardown")
        self.state.measured(self).append((result.value, dict(result.metadata or {})))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, IterbenchError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        target = self.stash[TARGET_KEY]
        return self.path, None, f"{self.state.run.id}: {target.iteration_id} × {target.metric_id}"


def _seed_measure(metric: Any) -> Any:
    """A duck-typed seed metric (not a BaseMetric subclass): its measure() on the execution's folder."""

    def measure(execution: Any) -> Any:
        return metric.measure(
            str(execution.directory),
            execution.iteration.entry_point,
            dict(execution.iteration.parameters),
        )

    return measure


def _call_hook(metric: Any, name: str) -> None:
    hook = getattr(metric, name, None)
    if callable(hook):
        hook()
