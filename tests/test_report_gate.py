"""The CI gate: a session against an earlier one, per metric, within tolerances from metrics.json."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.report.gate import Regression, compare_sessions, exceeds, tolerance_text
from pytest_iterbench.workspace.model import Tolerance

RUN = "run-002"
S1, S2, S3 = "20261120T100000Z-00000001", "20261121T100000Z-00000002", "20261122T100000Z-00000003"
UNITS = {"accuracy": ("%", True), "exec_time": ("seconds", False), "source_lines": ("lines", False)}
TOLERANCES = {
    "accuracy": Tolerance(relative=0.01),
    "exec_time": Tolerance(absolute=0.5, relative=0.10),
}


def rec(session, iteration, metric, value, *, config="h1", status="passed", reason=None, run=RUN):
    unit, higher = UNITS[metric]
    return {
        "run_id": run,
        "session_id": session,
        "iteration_id": iteration,
        "metric_id": metric,
        "value": value,
        "unit": unit,
        "status": status,
        "reason": reason,
        "higher_is_better": higher,
        "config_hash": config,
    }


def history(accuracy_now=(91.2,), time_now=(2.0,)):
    return [
        rec(S1, "v1-baseline", "accuracy", 50.0),  # an older session: "last" skips it
        *(rec(S2, "v1-baseline", "accuracy", v) for v in (96.8, 97.0)),
        rec(S2, "v1-baseline", "exec_time", 2.0),
        rec(S2, "v1-baseline", "source_lines", 100.0),
        *(rec(S3, "v1-baseline", "accuracy", v) for v in accuracy_now),
        *(rec(S3, "v1-baseline", "exec_time", v) for v in time_now),
        rec(S3, "v1-baseline", "source_lines", 500.0),
        rec(S3, "v1-baseline", "accuracy", 99.0, run="other-run"),
    ]


def test_a_worse_accuracy_fails_with_a_one_line_reason():
    result = compare_sessions(history(), RUN, S3, "last", TOLERANCES)
    assert result.baseline_session == S2
    assert not result.ok
    (regression,) = result.regressions
    assert regression.message == "accuracy of v1-baseline: 96.90 -> 91.20 % (-5.9 %, tolerance 1 %)"
    assert result.summary_lines() == [
        f"iterbench compare: run {RUN}, session {S3} against {S2}: FAILED, 1 regression, 1 within tolerance",
        "  REGRESSION accuracy of v1-baseline: 96.90 -> 91.20 % (-5.9 %, tolerance 1 %)",
        "  not gated: source_lines (no tolerance in metrics.json)",
    ]


def test_within_tolerance_passes():
    result = compare_sessions(history(accuracy_now=(96.5, 96.3)), RUN, S3, "last", TOLERANCES)
    assert result.ok
    assert result.regressions == []
    assert result.passed == 2
    assert result.summary_lines()[0].endswith(": OK, 0 regressions, 2 within tolerance")


def test_a_slower_time_fails_only_beyond_both_limits():
    # 2.0 -> 2.4: +0.4 s is under the absolute 0.5 s: within.
    assert compare_sessions(
        history(accuracy_now=(97.0,), time_now=(2.4,)), RUN, S3, "last", TOLERANCES
    ).ok
    # 2.0 -> 2.6: +0.6 s exceeds 0.5 s and 10 % (0.2 s): a regression.
    result = compare_sessions(
        history(accuracy_now=(97.0,), time_now=(2.6,)), RUN, S3, "last", TOLERANCES
    )
    assert [r.message for r in result.regressions] == [
        "exec_time of v1-baseline: 2 -> 2.600 seconds (+30 %, tolerance 0.5000 seconds and 10 %)"
    ]


def test_the_mean_over_repeats_is_compared():
    # Mean 96.9 before; now 95.0 and 98.6 (mean 96.8): within 1 %, though one repeat is far off.
    assert compare_sessions(history(accuracy_now=(95.0, 98.6)), RUN, S3, "last", TOLERANCES).ok


def test_an_explicit_baseline_session():
    result = compare_sessions(history(accuracy_now=(60.0,)), RUN, S3, S1, TOLERANCES)
    assert result.baseline_session == S1
    assert result.ok  # 50 -> 60 is better; exec_time and source_lines were not measured in S1
    assert result.passed == 1


def test_a_changed_configuration_is_not_comparable_never_a_regression():
    records = [
        rec(S2, "v2-mlp", "accuracy", 97.0, config="old"),
        rec(S3, "v2-mlp", "accuracy", 10.0, config="new"),
    ]
    result = compare_sessions(records, RUN, S3, "last", TOLERANCES)
    assert result.ok
    assert result.not_comparable == ["v2-mlp: configuration changed (old -> new)"]
    assert "  not comparable: v2-mlp: configuration changed (old -> new)" in result.summary_lines()


def test_a_record_without_a_configuration_hash_is_not_comparable():
    records = [
        rec(S2, "v1", "accuracy", 97.0, config=None),
        rec(S3, "v1", "accuracy", 10.0, config=None),
    ]
    assert compare_sessions(records, RUN, S3, "last", TOLERANCES).not_comparable == [
        "v1: configuration unknown (records without config_hash)"
    ]


def test_a_gated_value_that_went_missing_is_a_regression():
    records = [
        rec(S2, "v1", "accuracy", 97.0),
        rec(S3, "v1", "accuracy", None, status="error", reason="ValueError: boom\nmore"),
    ]
    (regression,) = compare_sessions(records, RUN, S3, "last", TOLERANCES).regressions
    assert regression.message == (
        "accuracy of v1: 97 % -> no value (error: ValueError: boom more; tolerance 1 %)"
    )


def test_no_earlier_session_means_nothing_to_gate():
    result = compare_sessions(history(), RUN, S1, "last", TOLERANCES)
    assert result.ok
    assert result.baseline_session is None
    assert result.summary_lines() == [
        f"iterbench compare: run {RUN}, session {S1}: no earlier session of this run to compare with; nothing gated"
    ]


def test_an_unknown_session_names_the_known_ones():
    with pytest.raises(IterbenchError) as excinfo:
        compare_sessions(history(), RUN, S3, "20250101T000000Z-deadbeef", TOLERANCES)
    assert str(excinfo.value) == (
        f"run 'run-002': unknown session '20250101T000000Z-deadbeef' to compare with; "
        f"known sessions: {S1}, {S2}, {S3}"
    )
    with pytest.raises(IterbenchError, match="no records of session 'nope'; known sessions: "):
        compare_sessions(history(), RUN, "nope", "last", TOLERANCES)


def test_pairs_measured_before_but_not_now_are_noted():
    records = [
        rec(S2, "v1", "accuracy", 97.0),
        rec(S2, "v2", "accuracy", 97.0),
        rec(S3, "v1", "accuracy", 97.0),
    ]
    result = compare_sessions(records, RUN, S3, "last", TOLERANCES)
    assert result.ok
    assert f"  not measured in {S3}: accuracy of v2" in result.summary_lines()


def test_tolerance_text():
    assert tolerance_text(Tolerance(relative=0.01), "%") == "1 %"
    assert tolerance_text(Tolerance(absolute=0.5), "%") == "0.5000 % absolute"
    assert tolerance_text(Tolerance(absolute=2.0), "MB") == "2 MB"
    assert tolerance_text(Tolerance(), "MB") == "0"


def test_a_regression_from_zero_reports_the_absolute_change():
    regression = Regression("v1", "errors", "count", 0.0, 3.0, Tolerance(absolute=1.0))
    assert regression.message == "errors of v1: 0 -> 3 count (+3 count, tolerance 1 count)"


values = st.floats(-1e6, 1e6)
limits = st.one_of(st.none(), st.floats(0, 1e3))


@settings(deadline=None)
@given(values, values, st.booleans(), limits, limits)
def test_exceeds_is_a_worsening_beyond_every_limit(before, after, higher, absolute, relative):
    tolerance = Tolerance(absolute=absolute, relative=relative)
    worse = (before - after) if higher else (after - before)
    expected = worse > 0
    if absolute is not None:
        expected = expected and worse > absolute
    if relative is not None:
        expected = expected and worse > relative * abs(before)
    assert exceeds(tolerance, before, after, higher) == expected
    # Better is never a regression, whatever the tolerance.
    if worse <= 0:
        assert not exceeds(tolerance, before, after, higher)
