"""Fault injection, results: metrics returning what JSON cannot hold, and an iteration that overwrites results.json.

Promises:

- a metric returning a string, ``10**400`` or metadata JSON cannot hold fails
  its own item with a reason naming the metric and the value; its record is
  written with status ``error``; the session ends normally and every other
  record is written;
- records ``results.json`` held and the index saw are never lost to a rewrite
  of the file: the next read of the index (the session's report, or
  ``iterbench recover``) appends them again.
"""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.cli import main
from pytest_iterbench.results.store import ResultsStore

METRICS = """
from pytest_iterbench.metrics import BaseMetric, MetricResult

class Returns(BaseMetric):
    def __init__(self, what):
        self.what = what

    def measure(self, iteration_path, entry_point, parameters):
        value, metadata = {
            "string": ("abc", None),
            "huge": (10**400, None),
            "object": (1.0, {"when": object()}),
            "nan": (1.0, {"spread": float("nan")}),
            "surrogate": (1.0, {"name": "\\udc80"}),
            "good": (0.5, {"fine": [1, 2]}),
        }[self.what]
        return MetricResult(self.metric_id, value, "", metadata)
"""
METRIC_TEST = """
import pytest

@pytest.mark.metric("recorded")
def test_recorded(iteration, record_result):
    record_result(1.0, when=object())
"""
REASONS = {
    "string": "metric 'string' returned 'abc': expected a number",
    "huge": "metric 'huge' returned an integer of about 401 digits: expected a number a float can hold",
    "object": "metric 'object' returned metadata JSON cannot hold: Object of type object is not JSON serializable",
    "nan": "metric 'nan' returned metadata JSON cannot hold: Out of range float values are not JSON compliant",
    "surrogate": "metric 'surrogate' returned metadata JSON cannot hold: 'utf-8' codec can't encode character",
    "recorded": "metric 'recorded': the record cannot be written as JSON (Object of type object is not JSON serializable)",
}


@pytest.fixture
def hostile_metrics(workspace, pytester):
    pytester.makepyfile(returns=METRICS)
    (workspace.root / "metrics").mkdir()
    (workspace.root / "metrics" / "test_recorded.py").write_text(METRIC_TEST)
    workspace.iteration("v1")
    for what in ("string", "huge", "object", "nan", "surrogate", "good"):
        workspace.metric(what, "returns.Returns", options={"what": what})
    workspace.metric("recorded")
    workspace.run().write()
    return workspace


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_metric_returning_what_json_cannot_hold_fails_its_item_only(
    hostile_metrics, pytester, workers
):
    result = pytester.runpytest("--iterbench", "run-001", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "INTERNALERROR" not in str(result.stdout) + str(result.stderr)
    records = {r["metric_id"]: r for r in hostile_metrics.results()}
    assert set(records) == {*REASONS, "good"}
    assert records["good"]["status"] == "passed"
    assert records["good"]["metadata"] == {"fine": [1, 2]}
    for metric_id, reason in REASONS.items():
        assert records[metric_id]["status"] == "error", metric_id
        assert records[metric_id]["value"] is None
        assert reason in records[metric_id]["reason"], metric_id
    assert "metric 'string' returned 'abc': expected a number" in str(result.stdout)


OVERWRITING_MAIN = """
import json
from pathlib import Path

def run(parameters):
    here = Path(__file__).resolve().parent
    if (here / "overwrite").exists():
        (here.parents[1] / "results.json").write_text(json.dumps({"results": []}))
    return {"y_true": [0, 1], "y_pred": [0, 1]}
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_iteration_that_overwrites_results_json_loses_no_record(workspace, pytester, workers):
    workspace.iteration("v1", OVERWRITING_MAIN).iteration("v2").builtin_metrics().run().write()
    assert pytester.runpytest("--iterbench", "run-001", *workers).ret == 0
    earlier = {r["record_id"] for r in workspace.results()}
    assert len(earlier) == 4
    (workspace.root / "iterations" / "v1" / "overwrite").touch()

    result = pytester.runpytest("--iterbench", "run-001", *workers)
    assert result.ret == 0
    records = [r["record_id"] for r in workspace.results()]
    assert len(records) == len(set(records)) == 8
    assert earlier <= set(records)
    result.stdout.fnmatch_lines(["*was rewritten and had lost 4 records*restored*"])


def record(n):
    return {
        "record_id": f"rec-{n}",
        "session_id": f"20260101T00000{n}Z-0000abcd",
        "run_id": "run-001",
        "iteration_id": "v1",
        "metric_id": "accuracy",
        "value": n / 10,
        "unit": "%",
        "status": "passed",
        "executed_at": "2026-01-01T00:00:00.000Z",
        "environment": {"platform": "linux"},
    }


def fold(store, session, records):
    store.journal_dir.mkdir(parents=True, exist_ok=True)
    path = store.journal_dir / f"{session}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    store.fold([path])


def ids(store):
    return [r["record_id"] for r in store.read()]


def test_recover_restores_what_a_rewrite_lost(tmp_path, capsys):
    store = ResultsStore(tmp_path)
    fold(store, "s1", [record(1), record(2), record(3)])
    store.index().close()
    store.path.write_text('{"results": [' + json.dumps(record(2)) + "]}")
    assert main(["recover", "--dir", str(tmp_path)]) == 0
    assert sorted(ids(store)) == ["rec-1", "rec-2", "rec-3"]
    assert "was rewritten and had lost 2 records that it held before" in capsys.readouterr().err
    assert main(["recover", "--dir", str(tmp_path)]) == 0
    assert sorted(ids(store)) == ["rec-1", "rec-2", "rec-3"], "restored once, not again"


def test_a_deleted_results_json_is_a_fresh_start(tmp_path):
    store = ResultsStore(tmp_path)
    fold(store, "s1", [record(1), record(2)])
    store.index().close()
    store.path.unlink()
    store.index().close()
    fold(store, "s2", [record(3)])
    store.index().close()
    assert ids(store) == ["rec-3"]


def test_a_hand_edit_is_kept_once_the_index_is_deleted(tmp_path):
    store = ResultsStore(tmp_path)
    fold(store, "s1", [record(1), record(2)])
    store.index().close()
    store.path.write_text('{"results": [' + json.dumps(record(2)) + "]}")
    for path in (tmp_path / ".iterbench" / "index").iterdir():
        path.unlink()
    store.index().close()
    assert ids(store) == ["rec-2"]


NAN_RECORD = json.dumps(record(1)).replace("0.1", "NaN")


@pytest.mark.parametrize(
    "text",
    [
        '{"results": [' + NAN_RECORD + "]}",
        '{\n  "results": [\n    ' + NAN_RECORD + "\n  ]\n}\n",
    ],
    ids=["other-layout", "record-layout"],
)
def test_a_nan_in_results_json_is_kept_and_skipped_not_a_crash(tmp_path, text):
    store = ResultsStore(tmp_path)
    store.path.write_text(text)
    fold(store, "s1", [record(2)])
    assert [r["record_id"] for r in store.run_records("run-001")] == ["rec-2"]
    assert any("not a valid record" in w for w in store.warnings)
    assert '"value": NaN' in store.path.read_text(), "the hand-edited line is kept as it was"
