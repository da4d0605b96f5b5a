"""The fixtures a metric test uses: ``iteration`` and ``record_result``.

A metric test is a plain test function::

    @pytest.mark.metric("balanced_accuracy")
    def test_balanced_accuracy(iteration, record_result):
        y_true, y_pred = iteration.outputs["y_true"], iteration.outputs["y_pred"]
        record_result(balanced_accuracy_score(y_true, y_pred), n=len(y_true))

Under ``pytest --iterbench RUN`` it is parametrized over the run's iterations
(``test_balanced_accuracy[v1-baseline]``, ...) and deselected when the run does
not include its metric; without ``--iterbench`` it is skipped.

pytest imports this module in every session, ``--iterbench`` or not: the
harness's own modules (the session, the executor, timing) are imported only
by a fixture that runs under ``--iterbench``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iterbench.harness.stash import running_session
from pytest_iterbench.harness.target import METRIC_MARKER, item_target

if TYPE_CHECKING:
    from pytest_iterbench.execution.executor import Execution
    from pytest_iterbench.harness.session import IterbenchSession

RecordResult = Callable[..., None]
MeasureTime = Callable[..., dict[str, Any]]


def _session(request: pytest.FixtureRequest) -> IterbenchSession:
    state = running_session(request.config)
    if state is None:
        pytest.skip("metric test: run it with --iterbench RUN_ID")
    return state


@pytest.fixture
def iteration(request: pytest.FixtureRequest) -> Execution:
    """The iteration under test, executed once per session: ``.outputs``, ``.parameters``,
    ``.timings``, ``.resources``, ``.directory``, ``.id``.

    An iteration whose entry point failed makes the test an error (or a timeout)
    with the reason, and the session carries on.
    """
    state = _session(request)
    target = item_target(request.node)
    if target is None:
        # Inside a running test: a failure of this test, not a usage error of the session.
        pytest.fail(
            f"{request.node.nodeid}: the iteration fixture needs @pytest.mark.{METRIC_MARKER}(ID)",
            pytrace=False,
        )
    return state.execution(target)


@pytest.fixture
def measure_time(request: pytest.FixtureRequest) -> MeasureTime:
    """Time a function in calibrated rounds, exclusively under xdist, and record the median.

    ``measure_time(func, *args, rounds=None, warmup_rounds=1, min_rounds=5,
    max_time=1.0, record=True, **kwargs)`` returns the statistics (min, max,
    mean, stddev, median, iqr, q1, q3, outliers, ops, rounds, the raw rounds)
    and, with ``record=True``, records the median in seconds as the test's
    metric value with the statistics as metadata::

        @pytest.mark.metric("predict_time")
        def test_predict_time(iteration, measure_time):
            model = iteration.outputs["model"]
            measure_time(model.predict, iteration.outputs["x_test"])
    """
    state = _session(request)
    recorded = state.measured(request.node)

    def measure(
        func: Callable[..., Any],
        *args: Any,
        record: bool = True,
        rounds: int | None = None,
        warmup_rounds: int = 1,
        min_rounds: int = 5,
        max_time: float = 1.0,
        **kwargs: Any,
    ) -> dict[str, Any]:
        from pytest_iterbench.execution.timing import TimingPlan, time_rounds
        from pytest_iterbench.execution.timing_stats import timing_metadata

        plan = TimingPlan(
            rounds=rounds, warmup_rounds=warmup_rounds, min_rounds=min_rounds, max_time=max_time
        )
        with state.lock.exclusive():
            timed = time_rounds(lambda: func(*args, **kwargs), plan)
        metadata = timing_metadata(timed, state.measurement_context())
        if record:
            recorded.append((metadata["median"], metadata))
        return metadata

    return measure


@pytest.fixture
def record_result(request: pytest.FixtureRequest) -> RecordResult:
    """Record a value of the test's metric for the current iteration: ``record_result(value, **metadata)``.

    Each call adds one record to ``results.json``, in the metric's unit from ``metrics.json``.
    """
    state = _session(request)
    recorded = state.measured(request.node)

    def record(value: float | None, **metadata: Any) -> None:
        recorded.append((None if value is None else float(value), metadata))

    return record
