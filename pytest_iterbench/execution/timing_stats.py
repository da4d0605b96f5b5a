"""Statistics of timing rounds, with pytest-benchmark's ``Stats``.

>>> summary = summarize([0.010, 0.011, 0.012, 0.010, 0.013])
>>> summary["median"], summary["rounds"]
(0.011, 5)
"""

from __future__ import annotations

from typing import Any

from pytest_benchmark.stats import Stats

from pytest_iterbench.execution.timing import TimedRounds

STAT_FIELDS = (
    "min",
    "max",
    "mean",
    "stddev",
    "median",
    "iqr",
    "q1",
    "q3",
    "iqr_outliers",
    "stddev_outliers",
    "outliers",
    "ops",
    "rounds",
)


def summarize(durations: list[float]) -> dict[str, Any]:
    """min, max, mean, stddev, median, IQR, quartiles, outliers, ops and rounds of ``durations``."""
    stats = Stats()  # type: ignore[no-untyped-call]
    for duration in durations:
        stats.update(duration)  # type: ignore[no-untyped-call]
    return {name: getattr(stats, name) for name in STAT_FIELDS}


def timing_metadata(rounds: TimedRounds, context: dict[str, Any]) -> dict[str, Any]:
    """What a timing record's metadata holds: the statistics, how they were taken, the raw rounds."""
    return {
        **summarize(rounds.durations),
        "iterations_per_round": rounds.iterations,
        "warmup_rounds": rounds.warmup_rounds,
        "timer": rounds.timer,
        "total_seconds": rounds.total_seconds,
        "started_at": rounds.started_at,
        "finished_at": rounds.finished_at,
        "data": rounds.durations,
        **context,
    }
