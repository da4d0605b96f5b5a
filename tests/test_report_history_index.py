"""The report read through the index says what the report of every record says.

The index path (``load_run_samples``) reads one summary row per (pair, session)
and the values of the few sessions a trend shows; the in-memory path
(``compare_run`` over all records) sees everything. Whatever the history
(configurations changing, sessions without a value, repeats, more sessions than
a trend shows, other runs), both must render the same report.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_iterbench.report.comparison import compare_run
from pytest_iterbench.report.document import to_markdown
from pytest_iterbench.report.history import TREND_LENGTH
from pytest_iterbench.report.reading import load_run_samples
from pytest_iterbench.report.sections import build_document
from pytest_iterbench.results.index import session_values_query
from pytest_iterbench.results.store import ResultsStore

RUN = "run-001"


@st.composite
def histories(draw):
    """Records of several sessions of RUN (and of another run), in file order."""
    records = []
    sessions = draw(st.integers(1, 3 * TREND_LENGTH))
    for number in range(sessions):
        session = f"2026010{number // 10}T0{number % 10}0000Z-{number:08x}"
        for iteration in draw(st.lists(st.sampled_from(["v1", "v2"]), min_size=1, unique=True)):
            config = draw(st.sampled_from(["a", "a", "a", "a", "b", None]))
            for repeat in range(draw(st.integers(1, 2))):
                value = draw(st.one_of(st.none(), st.floats(0, 1), st.floats(0, 1)))
                records.append(
                    {
                        "record_id": f"{len(records):08d}",
                        "session_id": session,
                        "run_id": draw(st.sampled_from([RUN, RUN, RUN, "run-other"])),
                        "iteration_id": iteration,
                        "metric_id": "accuracy",
                        "value": value,
                        "unit": "%",
                        "higher_is_better": True,
                        "status": "passed" if value is not None else "error",
                        "repeat": repeat,
                        "config_hash": config,
                        "executed_at": "2026-01-01T00:00:00.000Z",
                        "environment": {"platform": "linux"},
                    }
                )
    return records


def _markdown(samples):
    # The order a run definition gives (without one, each path lists iterations as it met them).
    comparison = compare_run(samples, RUN, iteration_order=["v1", "v2"], session_id=None)
    return to_markdown(build_document(comparison, generated="2026-01-01T00:00:00Z"))


def _record(number, session, value, config="a"):
    return {
        "record_id": f"{number:08d}",
        "session_id": session,
        "run_id": RUN,
        "iteration_id": "v1",
        "metric_id": "accuracy",
        "value": value,
        "unit": "%",
        "higher_is_better": True,
        "status": "passed",
        "repeat": 0,
        "config_hash": config,
        "executed_at": "2026-01-01T00:00:00.000Z",
        "environment": {"platform": "linux"},
    }


def _write(root, records):
    lines = ",\n".join("    " + json.dumps(record) for record in records)
    (root / "results.json").write_text(f'{{\n  "results": [\n{lines}\n  ]\n}}\n', encoding="utf-8")


def test_a_history_longer_than_a_trend_shows_the_same_trend_both_ways(tmp_path):
    """Three times a trend's sessions, some without a value and some of another configuration."""
    records = []
    for number in range(3 * TREND_LENGTH):
        value = None if number % 7 == 3 else (number % 5) / 4
        config = "b" if number % 11 == 5 else "a"
        records.append(
            _record(number, f"2026010{number // 10}T0{number % 10}0000Z-x", value, config)
        )
    _write(tmp_path, records)
    through_index = _markdown(load_run_samples(ResultsStore(tmp_path), RUN, session_id=None))
    assert through_index == _markdown(records)
    assert "| `v1` | accuracy (%) | 23 |" in through_index  # 30: 4 without a value, 3 of config b


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=histories())
def test_the_index_path_renders_the_report_of_every_record(tmp_path_factory, records):
    root = tmp_path_factory.mktemp("history")
    _write(root, records)
    if not any(record["run_id"] == RUN for record in records):
        return
    through_index = load_run_samples(ResultsStore(root), RUN, session_id=None)
    assert _markdown(through_index) == _markdown(records)


def test_reading_a_trend_s_sessions_walks_the_pair_s_index_only(tmp_path):
    """``session_values`` must search by pair: by iteration alone it visits every run's records."""
    _write(tmp_path, [_record(n, f"2026010{n}T000000Z-x", 0.5) for n in range(3)])
    with ResultsStore(tmp_path).index() as index:
        plans = [
            row[-1]
            for row in index._db.execute(
                "EXPLAIN QUERY PLAN " + session_values_query(2),
                (RUN, "v1", "accuracy", "20260100T000000Z-x", "20260101T000000Z-x"),
            )
        ]
    assert plans == [
        "SEARCH records USING INDEX by_pair (run_id=? AND iteration_id=? AND metric_id=? AND session_id=?)"
    ]
