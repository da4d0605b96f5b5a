"""Unit tests of ``pytest_iterbench.report.writer``: cell escaping, numbers, latest records, the Results table.

The content of the other sections is tested in ``test_report_content.py``, the statistics in
``test_report_stats.py``, the Pareto front, lineage and trends in ``test_report_pareto.py``,
the CI gate in ``test_report_gate.py``.
"""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import math
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_lint import assert_markdown_clean

from pytest_iterbench.report.samples import collect_samples
from pytest_iterbench.report.writer import (
    code_span,
    escape_cell,
    format_value,
    render_report,
)

RUN = "run-001"
STATUSES = ("passed", "failed", "error", "skipped", "timeout")
UNITS = ("", "%", "MB", "seconds", "s|ms", "a\\b")
ALNUM = string.ascii_letters + string.digits

# Ids as the schemas allow them: ^[A-Za-z0-9][A-Za-z0-9._-]*$
ids = st.builds(
    lambda head, tail: head + tail, st.sampled_from(ALNUM), st.text(ALNUM + "._-", max_size=10)
)
# Reasons as exception messages carry them: anything, and above all pipes, backticks, newlines.
reasons = st.one_of(
    st.none(), st.text(max_size=40), st.text(alphabet="ab |`\n\r\t\\<>*_", max_size=20)
)
# Reasons without Markdown inline syntax (the escaping of which is a known bug, see below).
PLAIN_ALPHABET = "ab Z09\n\t|\\.,;'\"()=-+#!?%$&@[]{}~^/:éß×"
plain_reasons = st.one_of(
    st.none(), st.text(alphabet=PLAIN_ALPHABET, max_size=30).filter(str.strip)
)
values = st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(10**6), 10**6))


def record(iteration, metric, *, run_id=RUN, value=0.5, status="passed", reason=None, **extra):
    return {
        "run_id": run_id,
        "iteration_id": iteration,
        "metric_id": metric,
        "value": value,
        "unit": extra.pop("unit", ""),
        "status": status,
        "reason": reason,
        "executed_at": extra.pop("executed_at", "2025-02-14T16:00:00.000Z"),
        "session_id": extra.pop("session_id", "20250214T160000Z-0000abcd"),
        **extra,
    }


# -- escape_cell ---------------------------------------------------------------------------


def _unescape(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell)


def test_escape_cell_example():
    assert escape_cell("a|b\nc") == "a\\|b c"


@settings(deadline=None)
@given(st.text())
def test_escape_cell_leaves_no_unescaped_pipe_and_no_line_break(text):
    cell = escape_cell(text)
    for match in re.finditer(r"(\\*)\|", cell):
        assert len(match.group(1)) % 2 == 1, f"unescaped pipe at {match.start()} in {cell!r}"
    assert len(cell.splitlines()) <= 1
    assert "\n" not in cell
    assert "\r" not in cell


@settings(deadline=None)
@given(st.text())
def test_escape_cell_keeps_the_text_with_whitespace_collapsed(text):
    assert _unescape(escape_cell(text)) == " ".join(text.split())


# -- format_value --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, "3"),
        (3.0, "3"),
        (-12.0, "-12"),
        (0, "0"),
        (100000.0, "100000"),
        (0.96875, "0.9688"),
        (96.8888, "96.89"),
        (0.5, "0.5000"),
        (-0.0123456, "-0.01235"),
        (None, "n/a"),
        (math.nan, "n/a"),
        (math.inf, "n/a"),
        (-math.inf, "n/a"),
    ],
)
def test_format_value(value, expected):
    assert format_value(value) == expected


@settings(deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_format_value_renders_integers_without_decimals(n):
    assert format_value(n) == str(n)
    assert format_value(float(n)) == str(n)


@settings(deadline=None)
@given(
    st.floats(min_value=1e-3, max_value=1e4, exclude_max=True),
    st.sampled_from([1.0, -1.0]),
)
def test_format_value_keeps_four_significant_digits(magnitude, sign):
    value = sign * magnitude
    text = format_value(value)
    assert "e" not in text
    assert float(text) == pytest.approx(value, rel=1e-3)


# -- the latest session: RunSamples.focus, the one definition ----------------------------


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _focus(records, session_id=None):
    return collect_samples(records, RUN).focus(session_id)


@settings(deadline=None)
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=6, unique=True),
    st.randoms(use_true_random=False),
)
def test_focus_is_the_latest_session(stamps, rnd):
    sessions = [f"20260101T{stamp:012d}Z-s" for stamp in stamps]
    records = [record("v1", "acc", value=float(k), session_id=s) for k, s in enumerate(sessions)]
    rnd.shuffle(records)
    focus = _focus(records)
    assert list(focus) == [("v1", "acc")]
    assert focus["v1", "acc"].session_id == max(sessions)
    earliest = min(sessions)
    assert _focus(records, earliest)["v1", "acc"].session_id == earliest


def test_focus_ignores_other_runs():
    mine = record("v1", "acc", value=1.0, session_id="S1")
    other = record("v1", "acc", run_id="run-002", value=2.0, session_id="S2")
    only_other = record("v2", "f1", run_id="run-002", session_id="S2")
    focus = _focus([mine, other, only_other])
    assert list(focus) == [("v1", "acc")]
    assert focus["v1", "acc"].values == [1.0]


def test_focus_falls_back_to_the_latest_session_that_measured_a_pair():
    a = record("v1", "acc", value=1.0, session_id="S1")
    b = record("v1", "f1", value=2.0, session_id="S2")  # S2 ran only f1 (-k)
    focus = _focus([a, b])
    assert {pair: s.session_id for pair, s in focus.items()} == {
        ("v1", "acc"): "S1",
        ("v1", "f1"): "S2",
    }


def test_seed_records_without_session_are_ordered_by_instant_not_by_string():
    at_16_utc = record("v1", "acc", value=1.0, executed_at="2025-02-14T16:00:00Z", session_id=None)
    at_15_30_utc = record(
        "v1", "acc", value=2.0, executed_at="2025-02-14T17:30:00+02:00", session_id=None
    )
    assert _focus([at_16_utc, at_15_30_utc])["v1", "acc"].values == [1.0]


# -- render_report -------------------------------------------------------------------------


@st.composite
def run_records(draw, reason_strategy=reasons):
    """Records of RUN, one per drawn (iteration, metric) pair, plus records of another run."""
    iterations = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    metrics = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    units = {m: draw(st.sampled_from(UNITS)) for m in metrics}
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(iterations), st.sampled_from(metrics)),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    records = [
        record(
            i,
            m,
            value=draw(values),
            status=draw(st.sampled_from(STATUSES)),
            reason=draw(reason_strategy),
            unit=units[m],
        )
        for i, m in pairs
    ]
    noise = [record("noise.iteration", m, run_id="run-002", status="failed") for m in metrics]
    return iterations, metrics, units, records + noise


def _expected_cell(rec):
    if rec is None:
        return "-"
    value = rec["value"]
    # NaN and infinities never reach results.json (records store them as null): no value.
    shown = format_value(value) if value is not None and math.isfinite(value) else ""
    if rec["status"] == "passed":
        return shown or "n/a"
    return f"{shown} ({rec['status']})" if shown else rec["status"]


def _table(markdown: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index("## Results") + 2
    rows = []
    for line in lines[start:]:
        if not line:
            break
        assert line.startswith("| "), line
        assert line.endswith(" |"), line
        rows.append(line[2:-2].split(" | "))
    return rows


@settings(max_examples=60, deadline=None)
@given(run_records())
def test_render_report_has_a_row_per_iteration_and_a_column_per_metric(drawn):
    iterations, metrics, units, records = drawn
    markdown = render_report(records, RUN, iteration_order=iterations, metric_order=metrics)
    used = {(r["iteration_id"], r["metric_id"]): r for r in records if r["run_id"] == RUN}
    shown_iterations = [i for i in iterations if any(i == k[0] for k in used)]
    shown_metrics = [m for m in metrics if any(m == k[1] for k in used)]
    header, delimiter, *rows = _table(markdown)
    assert header == [
        "Iteration",
        *(escape_cell(f"{m} ({units[m]})" if units[m] else m) for m in shown_metrics),
    ]
    assert delimiter == ["---", *["---:"] * len(shown_metrics)]
    assert [row[0] for row in rows] == [escape_cell(i) for i in shown_iterations]
    for iteration, row in zip(shown_iterations, rows, strict=True):
        assert row[1:] == [_expected_cell(used.get((iteration, m))) for m in shown_metrics]
    assert "noise.iteration" not in markdown


@settings(max_examples=60, deadline=None)
@given(run_records())
def test_render_report_lists_every_item_that_did_not_pass_with_its_reason(drawn):
    *_, records = drawn
    markdown = render_report(records, RUN)
    problems = [line for line in markdown.splitlines() if line.startswith("- `")]
    failed = [r for r in records if r["run_id"] == RUN and r["status"] != "passed"]
    assert len(problems) == len(failed)
    for r in failed:
        reason = escape_cell(r["reason"] or "") or "no reason recorded"
        line = f"- {code_span(r['iteration_id'])} × {code_span(r['metric_id'])}: {r['status']}: {reason}"
        assert line in problems
    assert ("## Items that did not pass" in markdown) == bool(failed)


@settings(max_examples=30, deadline=None)
@given(run_records(plain_reasons))
def test_render_report_passes_pymarkdownlnt(drawn):
    *_, records = drawn
    assert_markdown_clean(render_report(records, RUN))


def test_render_report_of_a_run_without_results_passes_pymarkdownlnt():
    markdown = render_report([record("v1", "acc", run_id="run-002")], RUN)
    assert "No results for run `run-001`" in markdown
    assert "| " not in markdown
    assert_markdown_clean(markdown)


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("AttributeError: Can't pickle local object 'run.<locals>.fit'", id="html"),
        pytest.param("dataset not found, see https://example.com/data", id="bare-url"),
        pytest.param("unexpected token `x ` in config", id="code-span-space"),
        pytest.param("expected *positive* weights, got _nan_", id="emphasis-style"),
        pytest.param("   ", id="whitespace-only"),
    ],
)
def test_render_report_escapes_markdown_in_reasons(reason):
    records = [record("v1", "acc"), record("v2", "acc", value=None, status="error", reason=reason)]
    assert_markdown_clean(render_report(records, RUN))


# -- the examples in the report modules' docstrings ----------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "comparison",
        "gate",
        "history",
        "lineage",
        "pareto",
        "plots",
        "writer",
        "document",
        "samples",
        "statistics",
    ],
)
def test_docstring_examples_hold(module):
    imported = importlib.import_module(f"pytest_iterbench.report.{module}")
    result = doctest.testmod(imported, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- the statistic follows the metric's declared type ------------------------------------


@pytest.mark.parametrize(
    ("metric_type", "shown"), [("performance", "IQR"), ("ml_quality", "±"), (None, "±")]
)
def test_the_statistic_follows_the_declared_type_not_the_name(metric_type, shown):
    # "train_time" reads like a time; only its declared type may make it one.
    records = [
        record("v1", "train_time", value=float(v), metric_type=metric_type, repeat=k)
        for k, v in enumerate([1, 2, 3, 4, 5])
    ]
    row = next(line for line in render_report(records, RUN).splitlines() if "| v1 |" in line)
    assert shown in row
    assert ("IQR" if shown == "±" else "±") not in row
