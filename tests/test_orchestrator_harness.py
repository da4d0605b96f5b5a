"""The harness options the orchestrator drives: a resumed session, one iteration only."""

from __future__ import annotations

import pytest

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
