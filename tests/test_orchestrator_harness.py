"""The harness options the orchestrator drives: a resumed session, one iteration only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_iterbench.orchestrator.benchmark import session_records
from pytest_iterbench.results.store import ResultsStore
from tests.conftest import WorkspaceBuilder

COUNTING_MAIN = """
import os
def run(parameters):
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "count.txt"), "a") as f:
        f.write("x")
    return {"y_true": [0, 1], "y_pred": [0, 1]}
"""


def _workspace(workspace: WorkspaceBuilder) -> WorkspaceBuilder:
    workspace.iteration("v1", COUNTING_MAIN).iteration("v2", COUNTING_MAIN)
    workspace.builtin_metrics().run().write()
    return workspace


def test_resumed_session_runs_only_what_it_has_not_recorded(
    pytester: pytest.Pytester, workspace: WorkspaceBuilder
) -> None:
    _workspace(workspace)
    first = pytester.runpytest("--iterbench", "run-001", "--iterbench-only", "v1")
    first.assert_outcomes(passed=2, deselected=2)
    assert {r["iteration_id"] for r in workspace.results()} == {"v1"}, "--iterbench-only v1"
    session = workspace.results()[0]["session_id"]
    second = pytester.runpytest("--iterbench", "run-001", "--iterbench-session", session)
    second.assert_outcomes(passed=2, deselected=2)
    records = workspace.results()
    assert {r["session_id"] for r in records} == {session}
    assert sorted((r["iteration_id"], r["metric_id"]) for r in records) == [
        ("v1", "accuracy"),
        ("v1", "f1_macro"),
        ("v2", "accuracy"),
        ("v2", "f1_macro"),
    ]
    assert (workspace.root / "count.txt").read_text() == "xx"  # each iteration ran once
    assert "v2" in workspace.report()


def test_a_session_id_that_is_no_file_name_is_refused(
    pytester: pytest.Pytester, workspace: WorkspaceBuilder
) -> None:
    _workspace(workspace)
    result = pytester.runpytest("--iterbench", "run-001", "--iterbench-session", "../x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--iterbench-session*found '../x'*"])
    assert not (workspace.root / "results.json").exists()


def test_resumed_session_under_xdist(
    pytester: pytest.Pytester, workspace: WorkspaceBuilder
) -> None:
    _workspace(workspace)
    pytester.runpytest("--iterbench", "run-001", "--iterbench-only", "v1", "-n", "2")
    session = workspace.results()[0]["session_id"]
    result = pytester.runpytest("--iterbench", "run-001", "--iterbench-session", session, "-n", "2")
    result.assert_outcomes(passed=2)
    records = workspace.results()
    assert len(records) == 4
    assert {r["session_id"] for r in records} == {session}
    assert (workspace.root / "count.txt").read_text() == "xx"


def _history_record(n: int, session: str, run: str, iteration: str) -> dict[str, object]:
    return {
        "record_id": f"old-{n}", "session_id": session, "run_id": run,
        "iteration_id": iteration, "metric_id": "accuracy", "value": 1.0, "unit": "%",
        "status": "passed", "executed_at": "2020-01-01T00:00:00.000Z",
        "environment": {"platform": "linux", "python": "3.11"}, "config_hash": "old",
    }  # fmt: skip


def _append_history(results: Path, records: list[dict[str, object]]) -> None:
    """Records appended by hand after the document's last record, one per line as the store writes them."""
    text = results.read_text(encoding="utf-8")
    head, _, tail = text.rpartition("\n  ]")
    lines = "".join(",\n    " + json.dumps(record) for record in records)
    results.write_text(head + lines + "\n  ]" + tail, encoding="utf-8")


def test_a_resumed_session_reads_its_own_records_through_the_index_not_the_whole_history(
    pytester: pytest.Pytester, workspace: WorkspaceBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workspace(workspace)
    pytester.runpytest("--iterbench", "run-001", "--iterbench-only", "v1").assert_outcomes(
        passed=2, deselected=2
    )
    session = workspace.results()[0]["session_id"]
    # v2's key recorded by another session, and by this session id under another run:
    # neither is this session's record of run-001, so v2 must still run.
    _append_history(
        workspace.root / "results.json",
        [
            _history_record(0, "20200101T000000Z-old00000", "run-001", "v2"),
            _history_record(1, session, "run-other", "v2"),
        ],
    )

    def whole_history(self: ResultsStore) -> list[dict[str, object]]:
        raise AssertionError("a resumed session parsed the whole of results.json")

    monkeypatch.setattr(ResultsStore, "read", whole_history)
    result = pytester.runpytest("--iterbench", "run-001", "--iterbench-session", session)
    result.assert_outcomes(passed=2, deselected=2)
    records = workspace.results()
    assert [(r["run_id"], r["iteration_id"]) for r in records if r["session_id"] == session] == [
        ("run-001", "v1"), ("run-001", "v1"), ("run-other", "v2"), ("run-001", "v2"), ("run-001", "v2"),
    ]  # fmt: skip
    assert (workspace.root / "count.txt").read_text() == "xx"
    assert session_records(workspace.root, "run-001", session) == [
        r for r in records if r["session_id"] == session and r["run_id"] == "run-001"
    ]
