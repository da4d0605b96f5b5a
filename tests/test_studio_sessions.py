"""The studio starts and stops real sessions and streams their items' states live."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest
from studio_helpers import (
    SLOW_MAIN,
    events_of,
    get_json,
    live,
    post_json,
    receive_until,
    studio,
)

from pytest_iterbench.studio.live import LiveState
from pytest_iterbench.studio.sessions import Launch, run_command, stoppable
from pytest_iterbench.workspace.paths import WorkspacePaths


@pytest.fixture
def waiting(workspace):
    """``good`` then ``slow`` (which waits for the file ``iterations/slow/go``), two metrics each."""
    workspace.iteration("good").iteration("slow", SLOW_MAIN).builtin_metrics().run(
        "run-001"
    ).write()
    return workspace


def kinds(messages):
    return [e["event"] for e in events_of(messages)]


def started(nodeid_part):
    def done(messages):
        return any(
            e["event"] == "item.start" and nodeid_part in e["nodeid"] for e in events_of(messages)
        )

    return done


def finished(messages):
    return "session.finish" in kinds(messages)


def released(messages):
    return any(m["type"] == "session" and m["holder"] is None for m in messages)


@pytest.mark.slow
def test_a_run_started_from_the_studio_streams_every_item_to_its_final_state(waiting):
    with studio(waiting.root) as server, live(server) as page:
        status, answer = post_json(server, "/execute", {"target": "run-001", "workers": 0})
        assert status == 200, answer
        holder = answer["started"]
        assert (holder["target"], holder["workers"]) == ("run-001", 0)
        first = receive_until(page, started("slow"))
        # while it runs: one session per workspace, and the page says who holds it
        status, refused = post_json(server, "/execute", {"target": "run-001"})
        assert status == 409
        assert refused["holder"]["pid"] == holder["pid"]
        assert "studio" in refused["holder"]["by"]
        assert get_json(server, "/health")["session_running"] is True
        with live(server) as gone:  # a page closed mid-run disturbs nothing
            receive_until(gone, lambda m: len(m) >= 1)
        # a page opened mid-run catches up: the session and its items, then what follows
        with live(server) as late:
            snapshot = receive_until(late, lambda m: len(m) >= 1)[0]
            assert snapshot["type"] == "snapshot"
            (session,) = [s for s in snapshot["sessions"] if not s["finished"]]
            assert len(session["items"]) == 4
            assert {i["state"] for i in session["items"].values()} & {"running", "passed"}
            (waiting.root / "iterations" / "slow" / "go").write_text("")
            late_rest = receive_until(late, finished)
        rest = receive_until(page, finished)
        rest += receive_until(page, released)
    events = events_of(first + rest)
    (items,) = [e for e in events if e["event"] == "session.items"]
    outcomes = {e["nodeid"]: e["outcome"] for e in events if e["event"] == "item.finish"}
    assert set(outcomes) == set(items["items"])
    assert set(outcomes.values()) == {"passed"}
    late_finished = {e["nodeid"] for e in events_of(late_rest) if e["event"] == "item.finish"}
    assert {n for n in outcomes if "slow" in n} <= late_finished
    assert events[-1]["event"] == "session.finish"
    assert events[-1]["exitstatus"] == 0
    records = waiting.results()
    assert len(records) == 4
    assert {r["session_id"] for r in records} == {items["session_id"]}
    session_messages = [m for m in first + rest if m["type"] == "session"]
    assert session_messages[-1]["holder"] is None
    assert session_messages[-1]["last_exit"] == 0


@pytest.mark.slow
def test_stop_interrupts_the_session_and_keeps_the_finished_results(waiting):
    with studio(waiting.root) as server, live(server) as page:
        status, answer = post_json(server, "/execute", {"target": "run-001"})
        assert status == 200, answer
        receive_until(page, started("slow"))
        status, stopping = post_json(server, "/api/stop", {})
        assert (status, stopping) == (200, {"stopping": True})
        messages = receive_until(page, finished)
        receive_until(page, released)
        status, again = post_json(server, "/api/stop", {})
        assert again == {"stopping": False}
    final = events_of(messages)[-1]
    assert final["event"] == "session.finish"
    assert final["exitstatus"] == 2  # interrupted, as with Ctrl-C
    kept = {(r["iteration_id"], r["metric_id"]) for r in waiting.results()}
    assert kept == {("good", "accuracy"), ("good", "f1_macro")}
    assert not (waiting.root / ".iterbench" / "studio" / "session.json").exists()


def test_a_bad_launch_is_a_message_not_a_session(waiting):
    with studio(waiting.root) as server:
        status, answer = post_json(server, "/execute", {"target": "run-404"})
        assert status == 400
        assert "unknown run 'run-404'; known: run-001" in answer["error"]
        status, answer = post_json(server, "/execute", {"target": "run-001", "workers": 999})
        assert status == 400
        assert "found 999" in answer["error"]
        status, answer = post_json(server, "/execute", {"workers": 1})
        assert status == 400
        assert "target" in answer["error"]
        assert get_json(server, "/api/session")["holder"] is None


def test_the_command_is_the_one_a_user_types(waiting):
    (waiting.root / "metrics").mkdir()
    argv = run_command(Launch("run", "run-001", 3), WorkspacePaths(waiting.root))
    assert argv[1:5] == ["-m", "pytest", "--iterbench", "run-001"]
    assert argv[argv.index("-n") + 1] == "3"
    assert argv[-1] == str(waiting.root / "metrics")  # the workspace's metric tests, not testpaths
    assert "-n" not in run_command(Launch("run", "run-001", 0), WorkspacePaths(waiting.root))


def test_a_session_held_by_another_studio_is_refused_and_named(waiting):
    lock_dir = waiting.root / ".iterbench" / "studio"
    from filelock import FileLock

    lock_dir.mkdir(parents=True)
    holder = {
        "kind": "run",
        "target": "run-001",
        "workers": 0,
        "pid": __import__("os").getpid(),
        "since": "2026-11-30T13:00:00Z",
        "by": "the studio of someone@elsewhere",
    }
    (lock_dir / "session.json").write_text(json.dumps(holder))
    with FileLock(str(lock_dir / "session.lock")), studio(waiting.root) as server:
        status, answer = post_json(server, "/execute", {"target": "run-001"})
        assert status == 409
        assert answer["holder"]["by"] == "the studio of someone@elsewhere"
        assert get_json(server, "/api/session")["holder"]["by"] == holder["by"]


def test_the_live_state_folds_events_as_the_page_does():
    state = LiveState()
    ids = {"session_id": "S1", "run_id": "run-001"}
    for event in (
        {"event": "session.start", "pid": 1, "at": "t0", "workers": 2, **ids},
        {"event": "session.items", "total": 3, "items": ["a", "b", "c"], **ids},
        {"event": "item.start", "nodeid": "a", **ids},
        {"event": "item.start", "nodeid": "b", **ids},
        {"event": "item.finish", "nodeid": "a", "outcome": "failed", "reason": "no", **ids},
        {"event": "orchestration.step", "step": "plan"},
        {"event": "item.finish", "nodeid": "zz", "outcome": "passed", "session_id": "unknown"},
        {"event": "session.finish", "exitstatus": 2, "counts": {"failed": 1}, **ids},
    ):
        state.fold(event)
    (session,) = state.snapshot()["sessions"]
    assert {n: i["state"] for n, i in session["items"].items()} == {
        "a": "failed",
        "b": "interrupted",
        "c": "not run",
    }
    assert session["items"]["a"]["reason"] == "no"
    assert (session["finished"], session["exitstatus"], session["workers"]) == (True, 2, 2)
    assert state.snapshot()["other"] == [{"event": "orchestration.step", "step": "plan"}]
    for k in range(7):
        state.fold({"event": "session.start", "session_id": f"T{k}"})
    assert len(state.sessions) == 5
    assert "S1" not in state.sessions


def test_the_workspace_lock_is_released_whichever_thread_notices_the_end(waiting, monkeypatch):
    import sys
    import threading

    from pytest_iterbench.studio import sessions

    monkeypatch.setitem(sessions.LAUNCHERS, "run", lambda launch, paths: [sys.executable, "-c", ""])
    runner = sessions.SessionRunner(waiting.root)
    for _ in range(2):  # each start in a thread of its own, as the app's requests are
        thread = threading.Thread(target=runner.start, args=(Launch("run", "run-001"),))
        thread.start()
        thread.join()
        assert runner.process is not None
        runner.process.wait()
        assert runner.current() is None  # noticed here, in another thread than the start's
        assert not runner.lock.is_locked
    assert runner.last_exit == 0


SIGNAL_PROBE = (
    "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler,"
    " signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set()))"
)


def test_a_session_child_is_stoppable_whatever_the_launching_thread_blocks():
    """A thread that blocks SIGINT (some libraries do) passes its mask on, an ignored SIGINT is inherited; Stop must still interrupt."""
    seen = {}

    def launch() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # this thread only
        command = [sys.executable, "-c", SIGNAL_PROBE]
        seen["plain"] = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        seen["studio"] = subprocess.run(
            stoppable(command), capture_output=True, text=True, check=True
        ).stdout

    thread = threading.Thread(target=launch)
    thread.start()
    thread.join()
    # Inherited: SIGINT would wait forever (and it may be ignored too, where a test or a
    # library of this process set SIG_IGN: children inherit that as well).
    assert seen["plain"].split()[1] == "True"
    assert seen["studio"].split() == ["True", "False"]  # KeyboardInterrupt on SIGINT
