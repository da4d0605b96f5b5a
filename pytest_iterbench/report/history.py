"""History: how one iteration configuration measured across sessions, as a trend.

Sessions are comparable only when the iteration's configuration is the same:
the record's ``config_hash`` covers its code, entry point and parameters. A
sample of another configuration is never mixed into a trend; it is counted,
so the reader knows there is more, and left out. A record without a hash (the
seed's) matches nothing, not even another record without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import isfinite

from pytest_iterbench.report.samples import Sample
from pytest_iterbench.report.statistics import MetricKind, centre

SPARK_BARS = "▁▂▃▄▅▆▇█"
#: Most sessions a trend shows (the latest ones).
TREND_LENGTH = 10


@dataclass(frozen=True)
class TrendPoint:
    """One session's centre (mean or median, as the metric's kind asks) and sample size."""

    session_id: str
    centre: float
    n: int


@dataclass(frozen=True)
class Trend:
    """The sessions of one configuration, oldest first, ending with the session the report is about.

    ``sessions`` counts every matching session (``points`` holds the latest
    :data:`TREND_LENGTH`); ``other_configurations`` counts earlier sessions of
    the same (iteration, metric) with a different or unknown configuration.
    """

    points: tuple[TrendPoint, ...]
    sessions: int
    other_configurations: int

    @property
    def has_history(self) -> bool:
        """Whether at least one earlier session measured this configuration."""
        return self.sessions > 1

    def change(self) -> float | None:
        """Latest centre minus the earliest shown; None without history."""
        if len(self.points) < 2:
            return None
        return self.points[-1].centre - self.points[0].centre


def sparkline(values: Sequence[float]) -> str:
    """Values as a row of block characters, lowest to highest.

    >>> sparkline([1.0, 2.0, 3.0]), sparkline([5.0, 5.0])
    ('▁▅█', '▄▄')
    """
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK_BARS[3] * len(values)
    # A division per value: the reciprocal of a span of subnormals overflows. A span that
    # overflows itself (-1e308 to 1e308) is taken in halves.
    top = len(SPARK_BARS) - 1
    if isfinite(high - low):
        return "".join(SPARK_BARS[round((v - low) / (high - low) * top)] for v in values)
    half_span = high / 2 - low / 2
    return "".join(SPARK_BARS[round((v / 2 - low / 2) / half_span * top)] for v in values)


def build_trend(
    by_session: Mapping[str, Sample],
    focus: Sample,
    kind: MetricKind,
    dropped: Mapping[str | None, tuple[int, int]] | None = None,
) -> Trend:
    """The trend of ``focus``'s configuration over the sessions up to and including its own.

    >>> from pytest_iterbench.report.samples import Sample
    >>> def sample(session, value, config):
    ...     s = Sample(session, {"config_hash": config}); s.add({"value": value, "config_hash": config}); return s
    >>> by_session = {"S1": sample("S1", 1.0, "a"), "S2": sample("S2", 5.0, "b"), "S3": sample("S3", 2.0, "a")}
    >>> t = build_trend(by_session, by_session["S3"], "quality")
    >>> [p.centre for p in t.points], t.other_configurations
    ([1.0, 2.0], 1)
    """
    config = focus.config_hash
    matching: list[TrendPoint] = []
    others = matched = 0
    for session_id in sorted(s for s in by_session if s <= focus.session_id):
        sample = by_session[session_id]
        if sample is not focus and (config is None or sample.config_hash != config):
            others += 1
            continue
        if sample.values:
            matching.append(TrendPoint(session_id, centre(sample.values, kind), len(sample.values)))
    # Sessions an index left out of ``by_session`` (older than those shown): counted only.
    for dropped_config, (with_values, sessions) in (dropped or {}).items():
        if config is not None and dropped_config == config:
            matched += with_values
        else:
            others += sessions
    return Trend(
        points=tuple(matching[-TREND_LENGTH:]),
        sessions=len(matching) + matched,
        other_configurations=others,
    )
