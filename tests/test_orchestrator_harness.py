"""The harness options the orchestrator drives: a resumed session, one iteration only."""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.orchestrator.benchmark import session_records
from pytest_iterbench.results.records import new_session_id
from pytest_iterbench.results.store import ResultsStore
from tests.conftest import WorkspaceBuilder, old_record, write_results

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


def test_a_resumed_session_reads_its_own_records_through_the_index_not_the_whole_history(
    pytester: pytest.Pytester, workspace: WorkspaceBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workspace(workspace)
    session = new_session_id()  # chosen before the first attempt, as the orchestrator does
    # v2's key recorded by another session, and by this session id under another run:
    # neither is this session's record of run-001, so v2 must still run.
    history = [
        old_record(0, iteration_id="v2"),
        old_record(1, run="run-other", session=session, iteration_id="v2"),
    ]
    write_results(workspace.root / "results.json", [json.dumps(r) for r in history])
    first = pytester.runpytest(
        "--iterbench", "run-001", "--iterbench-session", session, "--iterbench-only", "v1"
    )
    first.assert_outcomes(passed=2, deselected=2)

    def whole_history(self: ResultsStore) -> list[dict[str, object]]:
        raise AssertionError("a resumed session parsed the whole of results.json")

    monkeypatch.setattr(ResultsStore, "read", whole_history)
    result = pytester.runpytest("--iterbench", "run-001", "--iterbench-session", session)
    result.assert_outcomes(passed=2, deselected=2)
    records = workspace.results()
    assert records[:2] == history
    assert [(r["run_id"], r["iteration_id"]) for r in records[2:]] == [
        ("run-001", "v1"), ("run-001", "v1"), ("run-001", "v2"), ("run-001", "v2"),
    ]  # fmt: skip
    assert {r["session_id"] for r in records[2:]} == {session}
    assert (workspace.root / "count.txt").read_text() == "xx"
    assert session_records(workspace.root, "run-001", session) == records[2:]
