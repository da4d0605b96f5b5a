"""The report's statistics against SciPy and numpy: t quantile, CI, quartiles, Mann–Whitney."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from pytest_iterbench.report.statistics import (
    MIN_N,
    Significance,
    centre,
    format_p,
    mann_whitney,
    mann_whitney_p,
    mean_ci,
    metric_kind,
    quartiles,
    summarize,
    t_quantile,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, min_size=1, max_size=30)
# Few distinct values, so that ties (and the tie correction) come up often.
tied = st.lists(st.integers(0, 5).map(float), min_size=1, max_size=25)


@pytest.mark.parametrize(
    ("metric_type", "unit", "kind"),
    [
        ("performance", "seconds", "time"),
        ("performance", "", "time"),
        ("timing", "ns", "time"),
        ("performance", "MB", "memory"),
        ("memory", "", "memory"),
        ("resource", "bytes", "memory"),
        ("ml_quality", "%", "quality"),
        ("ml_quality", "seconds", "quality"),  # declared: the unit does not override the type
        ("cost", "USD", "quality"),
        ("complexity", "lines", "quality"),
        (None, "ms", "time"),  # the seed's records carry no type: the unit decides
        (None, "GB", "memory"),
        (None, "", "quality"),
    ],
)
def test_metric_kind_comes_from_the_declared_type(metric_type, unit, kind):
    assert metric_kind(metric_type, unit) == kind


@pytest.mark.parametrize("df", [*range(1, 60), 100, 1000, 10**5])
def test_t_quantile_matches_scipy(df):
    assert t_quantile(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-7)


def test_t_quantile_rejects_zero_degrees_of_freedom():
    with pytest.raises(ValueError, match="at least 1"):
        t_quantile(0)


@settings(deadline=None)
@given(samples)
def test_mean_ci_is_students_t_interval(values):
    mean, half = mean_ci(values)
    assert mean == pytest.approx(np.mean(values), rel=1e-9, abs=1e-9)
    if len(values) == 1:
        assert half is None
        return
    expected = scipy_stats.t.ppf(0.975, len(values) - 1) * scipy_stats.sem(values)
    assert half == pytest.approx(expected, rel=1e-6, abs=1e-9)


@settings(deadline=None)
@given(samples)
def test_quartiles_are_pytest_benchmarks(values):
    """One definition of quartiles: the report's are the ones timing metadata records."""
    from pytest_iterbench.execution.timing_stats import summarize as timing_summary

    q1, median, q3 = quartiles(sorted(values))
    recorded = timing_summary(list(values))
    assert (q1, median, q3) == (recorded["q1"], recorded["median"], recorded["q3"])
    assert q3 - q1 == pytest.approx(recorded["iqr"])
    assert q1 <= median <= q3


@settings(deadline=None)
@given(samples, st.sampled_from(["quality", "time", "memory"]))
def test_summary_brackets_its_centre_and_centre_agrees(values, kind):
    summary = summarize(values, kind)
    assert summary is not None
    assert summary.n == len(values)
    assert summary.minimum == min(values)
    assert summary.maximum == max(values)
    assert summary.low <= summary.centre + 1e-9
    assert summary.centre <= summary.high + 1e-9
    assert summary.centre == pytest.approx(centre(values, kind), rel=1e-9, abs=1e-9)
    expected = statistics.fmean(values) if kind == "quality" else statistics.median(values)
    assert summary.centre == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert (summary.spread is None) == (len(values) == 1)


def test_summarize_of_nothing_is_none():
    assert summarize([], "quality") is None


@settings(deadline=None, max_examples=150)
@given(samples, samples)
def test_mann_whitney_p_matches_scipy(a, b):
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue
    if math.isnan(expected):  # SciPy: 0/0 when every value is one and the same
        assert mann_whitney_p(a, b) == 1.0
    else:
        assert mann_whitney_p(a, b) == pytest.approx(expected, rel=1e-7, abs=1e-12)


@settings(deadline=None, max_examples=150)
@given(tied, tied)
def test_mann_whitney_p_matches_scipy_with_ties(a, b):
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue
    got = mann_whitney_p(a, b)
    assert got == (1.0 if math.isnan(expected) else pytest.approx(expected, rel=1e-7, abs=1e-12))


@settings(deadline=None)
@given(st.lists(finite, max_size=MIN_N - 1), samples)
def test_mann_whitney_says_n_too_small_below_four_values_a_side(small, other):
    for a, b in ((small, other), (other, small)):
        result = mann_whitney(a, b)
        assert result.verdict == "too small"
        assert result.p_value is None
        assert not result.significant
        assert result.label().startswith("n too small")


def test_mann_whitney_verdicts():
    apart = mann_whitney([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0])
    assert apart.significant
    assert apart.p_value == pytest.approx(2 / 70)
    overlapping = mann_whitney([1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0])
    assert overlapping.verdict == "not significant"
    same = mann_whitney([5.0] * 4, [5.0] * 6)
    assert same.verdict == "not significant"
    assert same.p_value == 1.0


@pytest.mark.parametrize(
    ("significance", "label"),
    [
        (Significance("too small", 1, 1), "n too small (1 vs 1)"),
        (Significance("significant", 5, 5, 0.0079), "significant, p = 0.0079"),
        (Significance("not significant", 5, 6, 0.31), "not significant, p = 0.31"),
        (Significance("significant", 50, 50, 1e-12), "significant, p < 0.0001"),
    ],
)
def test_significance_label(significance, label):
    assert significance.label() == label


def test_format_p():
    assert format_p(0.049) == "p = 0.049"
    assert format_p(0.05) == "p = 0.050"
    assert format_p(0.25) == "p = 0.25"
    assert format_p(1.0) == "p = 1.00"
    assert format_p(0.00001) == "p < 0.0001"
