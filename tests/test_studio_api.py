"""The studio's JSON API: plans checked and applied as on the command line, results as in the report."""

from __future__ import annotations

import json

import pytest
from studio_helpers import get_json, http, studio

from pytest_iterbench.llm.traces import TraceRecord, TraceStore

GOOD_MAIN = """
def run(parameters):
    print("fitting", parameters)
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 1, 0]}
"""
CHILD_MAIN = "def run(parameters):\n    raise ValueError('diverged at epoch 3')\n"


def plan(**changes):
    document = {
        "plan_version": 1,
        "description": "one more iteration",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-11-30T10:00:00Z",
        "rationale": "try it",
        "iterations": [
            {
                "id": "v3",
                "name": "v3",
                "source_path": "iterations/v3",
                "entry_point": "main.py",
                "parameters": {},
                "parent": "good",
            }
        ],
        "metrics": [],
        "runs": [
            {"id": "run-002", "name": "v3", "iteration_ids": ["v3"], "metric_ids": ["accuracy"]}
        ],
    }
    document.update(changes)
    return document


@pytest.fixture
def measured(workspace, pytester):
    """Two sessions of a run: ``good`` passes, ``child`` (its child) raises."""
    workspace.iteration("good", GOOD_MAIN, repeats=3)
    workspace.iteration("child", CHILD_MAIN, parent="good", parameters={"lr": 0.1})
    workspace.builtin_metrics().run("run-001").write()
    for _ in range(2):
        pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    return workspace


def test_a_plan_is_checked_by_the_command_lines_validator_and_applied(workspace):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    bad = plan()
    bad["iterations"][0]["parent"] = "nobody"
    bad["runs"][0]["metric_ids"] = ["accuracy", "speed"]
    with studio(workspace.root) as server:
        status, text = http(server, "/api/plan/validate", method="POST", body=json.dumps(bad))
        answer = json.loads(text)
        assert (status, answer["ok"]) == (200, False)
        where = {p["location"]: p["message"] for p in answer["problems"]}
        assert "unknown iteration 'nobody'" in where["iterations[0].parent"]
        assert "unknown metric 'speed'" in where["runs[0].metric_ids[1]"]
        assert all(p["file"] == "plan.json" for p in answer["problems"])
        status, text = http(
            server, "/api/plan/validate?file=mine.json", method="POST", body='{"a": 1,}'
        )
        (problem,) = json.loads(text)["problems"]
        assert problem["file"] == "mine.json"
        assert problem["location"] == "line 1, column 9"
        status, text = http(server, "/api/plan/apply", method="POST", body=json.dumps(bad))
        assert json.loads(text)["ok"] is False
        assert "v3" not in (workspace.root / "iterations.json").read_text()
        good = json.dumps(plan())
        answer = json.loads(http(server, "/api/plan/validate", method="POST", body=good)[1])
        assert answer == {
            "ok": True,
            "problems": [],
            "adds": {"iterations": ["v3"], "metrics": [], "runs": ["run-002"]},
        }
        answer = json.loads(http(server, "/api/plan/apply", method="POST", body=good)[1])
        assert answer["added"]["iterations"] == ["v3"]
        assert answer["created"] == ["iterations/v3"]
        summary = get_json(server, "/api/workspace")
    assert [it["id"] for it in summary["iterations"]] == ["good", "v3"]
    assert summary["iterations"][1]["parent"] == "good"
    assert (workspace.root / "iterations" / "v3" / "main.py").is_file()


def test_results_history_pareto_and_failure_detail(measured):
    records = measured.results()
    sessions = sorted({r["session_id"] for r in records})
    failed = next(
        r for r in records if r["iteration_id"] == "child" and r["session_id"] == sessions[-1]
    )
    with studio(measured.root) as server:
        results = get_json(server, "/api/results?run=run-001")
        assert results["sessions"] == sessions
        cells = {(c["iteration_id"], c["metric_id"]): c for c in results["cells"]}
        good = cells["good", "accuracy"]
        assert good["values"] == [100.0, 100.0, 100.0]  # the spread of the three repeats
        assert good["session_id"] == sessions[-1]
        assert cells["child", "accuracy"]["statuses"] == {"error": 1}
        history = get_json(server, "/api/history?run=run-001&iteration=good&metric=accuracy")
        assert [p["session_id"] for p in history["points"]] == sessions
        assert [p["n"] for p in history["points"]] == [3, 3]
        pareto = get_json(server, "/api/pareto?run=run-001&x=accuracy&y=f1_macro")
        assert {p["iteration_id"]: p["on_front"] for p in pareto["points"]} == {
            "good": True,
            "child": None,
        }
        query = f"run=run-001&session={sessions[-1]}&nodeid={failed['nodeid']}"
        detail = get_json(server, f"/api/item?{query}")
        assert "diverged at epoch 3" in detail["record"]["reason"]
        assert "raise ValueError('diverged at epoch 3')" in detail["traceback"]
        assert detail["event"]["outcome"] == "error"
        status, text = http(server, "/api/results?run=run-404")
        assert status == 400
        assert "unknown run 'run-404'" in json.loads(text)["error"]


def test_code_is_highlighted_and_diffed_against_the_parent(measured):
    with studio(measured.root) as server:
        code = get_json(server, "/api/code?iteration=child")
        assert code["files"] == ["main.py"]
        assert '<span class="k">def</span>' in code["html"]  # Pygments' markup
        assert code["parent"] == "good"
        assert '<span class="gd">-    print("fitting", parameters)</span>' in code["diff_html"]
        assert '<span class="gi">+    raise ValueError(' in code["diff_html"]
        assert code["parameter_changes"] == ["+lr: 0.1"]
        assert get_json(server, "/api/code?iteration=good")["diff_html"] is None
        status, css = http(server, "/code.css")
        assert status == 200
        assert ".highlight .k" in css


def test_llm_costs_per_role_come_from_the_traces(workspace):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    store = TraceStore(workspace.root)
    for role, cost in (("planner", 0.02), ("reviewer", 0.01), ("planner", 0.03)):
        store.append(
            TraceRecord.from_json(
                {
                    "call_id": f"{role}-{cost}",
                    "timestamp": "2026-11-30T10:00:00Z",
                    "role": role,
                    "model": "claude-sonnet-4-5",
                    "status": "ok",
                    "input_tokens": 100,
                    "output_tokens": 10,
                    "cost_usd": cost,
                }
            )
        )
    with studio(workspace.root) as server:
        costs = get_json(server, "/api/costs")
    by_role = {row["role"]: row for row in costs["by_role"]}
    assert by_role["planner"]["calls"] == 2
    assert by_role["planner"]["cost_usd"] == pytest.approx(0.05)
    assert by_role["reviewer"]["output_tokens"] == 10
    assert costs["total"]["calls"] == 3
