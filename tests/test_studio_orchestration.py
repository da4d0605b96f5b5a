"""The studio launches orchestrations (manual planner), streams their steps, stops and resumes them."""

from __future__ import annotations

import json

import pytest
from orchestrator_helpers import TOY_METRICS, plan_document
from studio_helpers import events_of, get_json, http, live, post_json, receive_until, studio

from pytest_iterbench.orchestrator.state import StateFile
from pytest_iterbench.studio.live import LiveState
from pytest_iterbench.studio.sessions import Launch, orchestration_command
from pytest_iterbench.workspace.paths import WorkspacePaths

#: Measured runs wait for the file ``go`` at the workspace's root; the smoke check does not.
WAITING_MAIN = """
import os, time
def run(parameters):
    flag = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "go")
    deadline = time.time() + 60
    while not os.environ.get("ITERBENCH_SMOKE") and not os.path.exists(flag) and time.time() < deadline:
        time.sleep(0.05)
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 1, 0]}
"""
START = {"kind": "orchestration", "planner": "manual"}


@pytest.fixture
def planned(tmp_path):
    """A hand-written plan (iteration ``v1``, accuracy and F1, run-001) and its waiting code."""
    root = tmp_path / "ws"
    (root / "iterations" / "v1").mkdir(parents=True)
    (root / "iterations" / "v1" / "main.py").write_text(WAITING_MAIN, encoding="utf-8")
    (root / "plan.json").write_text(json.dumps(plan_document(["v1"])), encoding="utf-8")
    (root / "toy_metrics.py").write_text(TOY_METRICS, encoding="utf-8")  # the plan's metric classes
    return root


def step_events(messages, kind):
    return [e for e in events_of(messages) if e["event"] == kind]


def event_seen(kind, **fields):
    def done(messages):
        return any(
            all(e.get(k) == v for k, v in fields.items()) for e in step_events(messages, kind)
        )

    return done


def released(messages):
    return any(m["type"] == "session" and m["holder"] is None for m in messages)


def item_running(messages):
    return bool(step_events(messages, "item.start"))


@pytest.mark.slow
def test_an_orchestration_streams_its_steps_to_done_and_a_late_page_catches_up(planned):
    with studio(planned) as server, live(server) as page:
        status, answer = post_json(server, "/execute", START)
        assert status == 200, answer
        assert answer["started"]["kind"] == "orchestration"
        first = receive_until(page, item_running)
        status, refused = post_json(server, "/execute", {"target": "run-001"})
        assert status == 409  # one session per workspace, whatever its kind
        assert refused["holder"]["kind"] == "orchestration"
        with live(server) as late:  # opened in the middle of the benchmark step
            (snapshot,) = receive_until(late, lambda m: len(m) >= 1)
            assert snapshot["type"] == "snapshot"
            steps = snapshot["orchestration"]["steps"]
            assert steps["benchmark:run-001"]["status"] == "running"
            assert {steps["plan"]["status"], steps["implement:v1"]["status"]} == {"done"}
            (session,) = [s for s in snapshot["sessions"] if not s["finished"]]
            assert len(session["items"]) == 2
            (planned / "go").write_text("")
            late_rest = receive_until(late, event_seen("orchestration.finish"))
        rest = receive_until(page, event_seen("orchestration.finish"))
        rest += receive_until(page, released)
        summary = get_json(server, "/api/orchestration")
    messages = first + rest
    finished = {e["step"]: e["status"] for e in step_events(messages, "step.finish")}
    assert set(finished) == {s["id"] for s in summary["steps"]}
    assert finished["benchmark:run-001"] == "done"
    assert set(finished.values()) <= {"done", "skipped"}
    assert step_events(messages, "orchestration.finish")[0]["status"] == "done"
    outcomes = [e["outcome"] for e in step_events(messages, "item.finish")]
    assert outcomes == ["passed", "passed"]
    assert event_seen("step.finish", step="benchmark:run-001", status="done")(late_rest)
    assert summary["summary"]["next"] is None
    assert summary["summary"]["failed"] == []
    assert [m for m in messages if m["type"] == "session"][-1]["last_exit"] == 0


@pytest.mark.slow
def test_stop_mid_orchestration_leaves_a_resumable_state(planned):
    with studio(planned) as server, live(server) as page:
        status, answer = post_json(server, "/execute", START)
        assert status == 200, answer
        receive_until(page, item_running)
        status, stopping = post_json(server, "/api/stop", {})
        assert (status, stopping) == (200, {"stopping": True})
        receive_until(page, released)
        state = StateFile(planned).load()  # parses and matches its schema
        assert state is not None
        by_id = {s.id: s for s in state.steps}
        assert (by_id["plan"].status, by_id["implement:v1"].status) == ("done", "done")
        assert by_id["benchmark:run-001"].status == "interrupted"
        assert get_json(server, "/api/orchestration")["summary"]["next"] == "benchmark:run-001"
        (planned / "go").write_text("")
        status, answer = post_json(server, "/execute", {**START, "resume": True})
        assert status == 200, answer
        messages = receive_until(page, event_seen("orchestration.finish"))
        receive_until(page, released)
    skipped = {e["step"] for e in step_events(messages, "step.skip")}
    assert {"plan", "implement:v1"} <= skipped  # done before: not run again
    assert event_seen("step.finish", step="benchmark:run-001", status="done")(messages)
    assert step_events(messages, "orchestration.finish")[0]["status"] == "done"
    records = json.loads((planned / "results.json").read_text(encoding="utf-8"))["results"]
    assert sorted((r["metric_id"], r["status"]) for r in records) == [
        ("accuracy", "passed"),
        ("f1_macro", "passed"),
    ]  # nothing measured twice
    assert {s.status for s in StateFile(planned).load().steps} <= {"done", "skipped"}


def test_bad_orchestration_launches_are_messages_not_sessions(planned):
    with studio(planned) as server:
        for body, expected in (
            ({**START, "workers": -1}, "workers"),
            ({**START, "target": "../elsewhere.json"}, "inside the workspace"),
            ({**START, "planner": "oracle"}, "found 'oracle'"),
            ({**START, "planner": "claude-api"}, "needs a description"),
            ({**START, "resume": True}, "none to resume"),
        ):
            status, answer = post_json(server, "/execute", body)
            assert status == 400, (body, answer)
            assert expected in answer["error"]
        status, text = http(server, "/api/orchestration")
        assert status == 404
        assert "no orchestration in state.json" in text
        assert get_json(server, "/api/session")["holder"] is None


def test_the_orchestration_command_is_the_one_a_user_types(planned):
    paths = WorkspacePaths(planned)
    argv = orchestration_command(Launch("orchestration", ""), paths)
    assert argv[1:6] == ["-m", "pytest_iterbench", "orchestrate", "--dir", str(planned)]
    assert argv[6:] == ["--planner", "manual", "--plan", str(planned / "plan.json")]
    described = orchestration_command(Launch("orchestration", "-x digits", planner="kernel"), paths)
    assert described[6:] == ["--planner", "kernel", "--", "-x digits"]
    on_workers = orchestration_command(Launch("orchestration", "", workers=2), paths)
    assert on_workers[6:8] == ["--workers", "2"]


def test_the_live_state_folds_an_orchestrations_events_as_the_page_does():
    state = LiveState()
    for event in (
        {"event": "step.start", "step": "stray", "attempt": 1},  # before any start: ignored
        {"event": "orchestration.start", "task": {"kind": "plan"}, "planner": "manual", "pid": 7},
        {"event": "step.skip", "step": "plan", "reason": "done before, inputs unchanged"},
        {"event": "step.start", "step": "benchmark:r", "kind": "benchmark", "target": "r", "attempt": 2},
        {"event": "step.finish", "step": "benchmark:r", "status": "failed", "seconds": 1.5,
         "cost_usd": 0.25, "error": "boom"},
        {"event": "orchestration.push", "remote": "origin", "ok": False, "error": "offline"},
        {"event": "orchestration.finish", "status": "failed", "cost_usd": 0.25},
    ):  # fmt: skip
        state.fold(event)
    folded = state.snapshot()["orchestration"]
    assert (folded["planner"], folded["finished"], folded["status"]) == ("manual", True, "failed")
    assert folded["steps"]["plan"] == {
        "id": "plan",
        "status": "done",
        "note": "done before, inputs unchanged",
    }
    step = folded["steps"]["benchmark:r"]
    assert (step["status"], step["attempt"], step["cost_usd"], step["error"]) == (
        "failed",
        2,
        0.25,
        "boom",
    )
    assert set(folded["steps"]) == {"plan", "benchmark:r"}
    assert folded["push"]["error"] == "offline"
    assert state.snapshot()["other"] == []
    assert state.orchestration_outside(None) is None  # finished
