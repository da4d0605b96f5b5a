"""Centre, spread and significance of repeated measurements, and which statistic fits a metric.

A quality metric is summarised by its mean with a 95% confidence interval
(Student's t), a time or a memory by its median and interquartile range, which
a single slow repeat does not drag. Which of these a metric is comes from its
``type`` in ``metrics.json`` (carried by each record as ``metric_type``), never
from its name. Two samples are compared with a two-sided Mann–Whitney U test
(SciPy's, imported only when a comparison has enough values for a p-value), and
only when each side has at least :data:`MIN_N` values: below that,
:func:`mann_whitney` says the sample is too small rather than return a p-value
that means nothing.

Quartiles have one definition in the project, pytest-benchmark's, so a time metric's IQR in the report is the IQR its timing
metadata records.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist
from typing import Literal

from pytest_benchmark.stats import Stats

MetricKind = Literal["quality", "time", "memory"]

#: Fewest values on each side for a Mann-Whitney test (4 vs 4 can reach p < 0.05).
MIN_N = 4
#: Two-sided significance level of the comparisons.
ALPHA = 0.05
#: Coverage of the confidence interval of a mean.
CONFIDENCE = 0.95

TIME_UNITS = frozenset({"seconds", "second", "sec", "s", "ms", "us", "µs", "ns"})
MEMORY_UNITS = frozenset({"mb", "gb", "kb", "bytes", "b", "mib", "gib", "kib"})
#: Declared metric types whose values are measurements of a resource (median, IQR).
RESOURCE_TYPES = frozenset({"performance", "time", "timing", "memory", "resource"})


def metric_kind(metric_type: str | None, unit: str | None) -> MetricKind:
    """Which statistic suits a metric, from its declared ``type`` and its unit.

    A resource type (``performance``, ...) is a memory when its unit is one, else a
    time; any other declared type (``ml_quality``, ``cost``, ...) is a quality. A
    record without a type (the seed's) is judged by its unit alone.

    >>> metric_kind("performance", "seconds"), metric_kind("performance", "MB")
    ('time', 'memory')
    >>> metric_kind("ml_quality", "s"), metric_kind(None, "ms"), metric_kind(None, "%")
    ('quality', 'time', 'quality')
    """
    unit_key = (unit or "").strip().lower()
    declared = (metric_type or "").strip().lower()
    if declared and declared not in RESOURCE_TYPES:
        return "quality"
    if unit_key in MEMORY_UNITS or declared == "memory":
        return "memory"
    if unit_key in TIME_UNITS or declared:
        return "time"
    return "quality"


#: Student's t quantile at 0.975 for 1 to 30 degrees of freedom (scipy.stats.t.ppf).
_T_975 = (
    12.7062047362, 4.30265272975, 3.18244630528, 2.7764451052, 2.57058183564,
    2.44691185114, 2.36462425159, 2.3060041352, 2.2621571628, 2.22813885199,
    2.20098516009, 2.17881282967, 2.16036865646, 2.14478668792, 2.13144954556,
    2.11990529922, 2.10981557783, 2.10092204024, 2.09302405441, 2.08596344727,
    2.07961384473, 2.0738730679, 2.06865761042, 2.06389856163, 2.05953855275,
    2.05552943864, 2.05183051648, 2.0484071418, 2.04522964213, 2.0422724563,
)  # fmt: skip


@cache
def t_quantile(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (two-sided 95%).

    Not SciPy's ``t.ppf``: every quality summary with repeats needs it, and
    importing ``scipy.stats`` costs about a second of every session end; this
    table and expansion are checked against SciPy in ``tests/test_report_stats.py``.

    Tabulated up to 30; beyond, the Cornish–Fisher expansion in 1/df, within
    2e-8 (relative) of the exact value.

    >>> round(t_quantile(4), 4), round(t_quantile(100), 4)
    (2.7764, 1.984)
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    terms = (
        z,
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return math.fsum(term / float(df) ** k for k, term in enumerate(terms))


def mean_ci(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the half-width of its 95% confidence interval (None for a single value).

    >>> mean_ci([1.0, 2.0, 3.0])[0]
    2.0
    """
    mean = math.fsum(values) / len(values)
    if len(values) < 2:
        return mean, None
    sd = statistics.stdev(values, mean)
    return mean, t_quantile(len(values) - 1) * sd / math.sqrt(len(values))


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile, as pytest-benchmark's ``Stats`` defines them.

    The project's one definition (timing metadata uses ``Stats`` itself):
    Wikipedia's method 2 (medians of the halves) for an even count, method 3
    for an odd one.

    >>> quartiles([1.0, 2.0, 3.0, 4.0]), quartiles([1.0, 2.0, 3.0, 4.0, 5.0])
    ((1.5, 2.5, 3.5), (1.75, 3.0, 4.25))
    """
    stats = Stats()  # type: ignore[no-untyped-call]
    for value in values:
        stats.update(value)  # type: ignore[no-untyped-call]
    return float(stats.q1), float(stats.median), float(stats.q3)


def centre(values: Sequence[float], kind: MetricKind) -> float:
    """The mean of a quality, the median of a time or a memory (no interval: no SciPy needed).

    >>> centre([1.0, 2.0, 9.0], "quality"), centre([1.0, 2.0, 9.0], "time")
    (4.0, 2.0)
    """
    if kind == "quality":
        return math.fsum(values) / len(values)
    return float(statistics.median(values))


@dataclass(frozen=True)
class Summary:
    """Centre and spread of one sample, as its metric kind asks.

    ``centre`` is the mean for a quality and the median for a time or a memory;
    ``low`` and ``high`` bound the spread shown with it: the 95% confidence
    interval of the mean, or the interquartile range. With one value they are
    the value itself and ``spread`` is None.
    """

    kind: MetricKind
    n: int
    centre: float
    low: float
    high: float
    minimum: float
    maximum: float

    @property
    def spread(self) -> float | None:
        """Half-width of the interval (quality) or the IQR (time, memory); None for n = 1."""
        if self.n < 2:
            return None
        return (self.high - self.low) / 2 if self.kind == "quality" else self.high - self.low

    @property
    def statistic(self) -> str:
        """What ``centre`` and the interval are, in words."""
        return "mean, 95% CI" if self.kind == "quality" else "median, IQR"


def summarize(values: Sequence[float], kind: MetricKind) -> Summary | None:
    """The :class:`Summary` of ``values`` (None when there are none).

    >>> s = summarize([10.0, 11.0, 12.0, 30.0], "time")
    >>> s.centre, s.low, s.high
    (11.5, 10.5, 21.0)
    """
    if not values:
        return None
    ordered = sorted(values)
    if kind == "quality":
        mean, half = mean_ci(ordered)
        half = half or 0.0
        low, centre, high = mean - half, mean, mean + half
    else:
        low, centre, high = quartiles(ordered)
    return Summary(kind, len(ordered), centre, low, high, ordered[0], ordered[-1])


SignificanceVerdict = Literal["significant", "not significant", "too small"]


@dataclass(frozen=True)
class Significance:
    """The outcome of comparing two samples: a verdict, and the p-value when a test ran."""

    verdict: SignificanceVerdict
    n_a: int
    n_b: int
    p_value: float | None = None

    @property
    def significant(self) -> bool:
        return self.verdict == "significant"

    def label(self) -> str:
        """A short mark for a table cell.

        >>> Significance("too small", 2, 5).label()
        'n too small (2 vs 5)'
        >>> Significance("significant", 5, 5, 0.0079).label()
        'significant, p = 0.0079'
        """
        if self.verdict == "too small" or self.p_value is None:
            return f"n too small ({self.n_a} vs {self.n_b})"
        return f"{self.verdict}, {format_p(self.p_value)}"


def format_p(p: float) -> str:
    """A p-value with its relation and two significant digits; tiny ones as an upper bound.

    >>> format_p(0.031234), format_p(0.05), format_p(0.5), format_p(1e-9)
    ('p = 0.031', 'p = 0.050', 'p = 0.50', 'p < 0.0001')
    """
    if p < 1e-4:
        return "p < 0.0001"
    return f"p = {p:#.2g}" if p < 0.1 else f"p = {p:.2f}"


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann–Whitney U test: ``scipy.stats.mannwhitneyu``, method auto.

    SciPy is imported here, on the first comparison with enough values for a
    test, not when the report loads. Two samples of one and the same constant
    differ in nothing: SciPy's 0/0 becomes p = 1.

    >>> round(mann_whitney_p([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]), 4)
    0.0286
    """
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue)
    return 1.0 if math.isnan(p) else p


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> Significance:
    """Two-sided Mann–Whitney U test of ``a`` against ``b``, when each has :data:`MIN_N` values.

    Two samples of one and the same constant differ in nothing: p = 1.

    >>> mann_whitney([1.0, 2.0], [3.0, 4.0, 5.0, 6.0]).verdict
    'too small'
    >>> mann_whitney([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]).label()
    'significant, p = 0.029'
    """
    if len(a) < MIN_N or len(b) < MIN_N:
        return Significance("too small", len(a), len(b))
    p = mann_whitney_p(a, b)
    verdict: SignificanceVerdict = "significant" if p < ALPHA else "not significant"
    return Significance(verdict, len(a), len(b), p)
