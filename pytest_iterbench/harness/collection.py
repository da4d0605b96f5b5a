"""Collection: the run's (iteration, metric) pairs as pytest items.

Metrics with a ``class`` become ``MetricItem``s under ``runs.json::<run>``, with
ids like ``runs.json::run-001::v1-baseline-accuracy`` so that ``-k`` and
``--lf`` work. Metric tests (test functions taking the ``iteration`` fixture and
marked ``@pytest.mark.metric(ID)``) are parametrized over the run's iterations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.execution.keys import run_slots
from pytest_iterbench.harness.session import IterbenchSession
from pytest_iterbench.harness.target import METRIC_MARKER, TARGET_KEY, Target
from pytest_iterbench.metrics.base import BaseMetric
from pytest_iterbench.metrics.builtin import TimingMetric
from pytest_iterbench.results.records import measured
from pytest_iterbench.workspace.paths import WorkspacePaths


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
        workspace = self.state.workspace
        for slot in run_slots(self.state.run, workspace.iterations):
            for metric_id in self.state.run.metric_ids:
                if metric_id not in workspace.metric_classes:
                    continue  # produced by a metric test
                item = MetricItem.from_parent(
                    self, name=slot.item_name(metric_id), state=self.state
                )
                item.stash[TARGET_KEY] = Target.of(slot, metric_id)
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
        if not hasattr(result, "value"):
            raise IterbenchError(
                f"metric {target.metric_id!r} returned {ascii(result)[:60]}: expected a MetricResult"
            )
        value = measured(target.metric_id, result.value, getattr(result, "metadata", None))
        self.state.measured(self).append(value)

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


def parametrize_metric_test(metafunc: pytest.Metafunc, state: IterbenchSession) -> None:
    """A metric test (it takes ``iteration``) as one item per execution of the run."""
    marker = metafunc.definition.get_closest_marker(METRIC_MARKER)
    where = metafunc.definition.nodeid
    if marker is None or not marker.args:
        pytest.fail(
            f"{where}: a metric test needs @pytest.mark.{METRIC_MARKER}('METRIC_ID') naming its metric in metrics.json",
            pytrace=False,
        )
    metric_id = marker.args[0]
    if metric_id not in state.workspace.metrics:
        pytest.fail(
            f"{where}: @pytest.mark.{METRIC_MARKER}({metric_id!r}): unknown metric; metrics.json defines: {', '.join(state.workspace.metrics)}",
            pytrace=False,
        )
    params = [
        pytest.param(slot, id=slot.param_id)
        for slot in run_slots(state.run, state.workspace.iterations)
    ]
    metafunc.parametrize("iteration", params, indirect=True)


def select_metric_tests(
    config: pytest.Config, items: list[pytest.Item], state: IterbenchSession
) -> None:
    """Give each metric test its target; deselect those whose metric the run does not include."""
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker(METRIC_MARKER)
        if callspec is not None and marker is not None and "iteration" in callspec.params:
            item.stash[TARGET_KEY] = Target.of(callspec.params["iteration"], marker.args[0])
            if marker.args[0] not in state.run.metric_ids:
                deselected.append(item)
                continue
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def collection_args(config: pytest.Config, workspace_root: Path) -> list[str]:
    """What an iterbench session collects: the run's items, and the metric tests.

    The class-metric items (``runs.json``) always; metric tests in the paths
    given on the command line, else in the ini option ``testpaths``, else in the
    workspace's ``metrics/`` folder (not the rootdir, which holds the project's
    own tests).
    """
    paths = WorkspacePaths(workspace_root)
    if config.args_source == pytest.Config.ArgsSource.INVOCATION_DIR:
        folder = paths.metric_tests_dir
        return [str(paths.runs), *([str(folder)] if folder.is_dir() else [])]
    base = config.invocation_params.dir
    named = any((base / arg.partition("::")[0]).resolve() == paths.runs for arg in config.args)
    return list(config.args) if named else [str(paths.runs), *config.args]
