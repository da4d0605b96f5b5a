"""The live event stream: what a session appends to ``.iterbench/events/events.jsonl``."""

from __future__ import annotations

import os

import pytest

from pytest_iterbench.results.events import (
    ROTATED_FILE,
    EventFollower,
    EventLog,
    clip,
    read_events,
)

FAILING_MAIN = """
def run(parameters):
    raise RuntimeError("broken on purpose")
"""

SECRET = "sk-ant-api03-" + "Z" * 40


def events_of(workspace):
    return read_events(workspace.root / ".iterbench" / "events" / "events.jsonl")


@pytest.fixture
def mixed_workspace(workspace):
    workspace.iteration("good")
    workspace.iteration("bad", FAILING_MAIN)
    workspace.builtin_metrics().run("run-001").write()
    return workspace


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_session_streams_each_item_start_and_final_outcome(mixed_workspace, pytester, xdist):
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist)
    result.assert_outcomes(passed=2, failed=2)
    events = events_of(mixed_workspace)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session.start"
    assert kinds[-1] == "session.finish"
    session_ids = {e["session_id"] for e in events}
    assert len(session_ids) == 1
    (items,) = [e for e in events if e["event"] == "session.items"]
    assert items["total"] == 4
    finished = {e["nodeid"]: e for e in events if e["event"] == "item.finish"}
    assert set(finished) == set(items["items"])
    started = [e["nodeid"] for e in events if e["event"] == "item.start"]
    assert sorted(started) == sorted(items["items"])
    for nodeid in items["items"]:  # every item starts before it finishes
        assert events.index(finished[nodeid]) > min(
            i for i, e in enumerate(events) if e.get("nodeid") == nodeid
        )
    outcomes = {(e["iteration_id"], e["metric_id"]): e for e in finished.values()}
    assert outcomes["good", "accuracy"]["outcome"] == "passed"
    assert outcomes["good", "accuracy"]["value"] == pytest.approx(75.0)
    assert outcomes["bad", "f1_macro"]["outcome"] == "error"
    assert outcomes["bad", "f1_macro"]["status"] == "error"
    assert "broken on purpose" in outcomes["bad", "f1_macro"]["reason"]
    assert 'raise RuntimeError("broken on purpose")' in outcomes["bad", "f1_macro"]["traceback"]
    assert "traceback" not in outcomes["good", "accuracy"]
    final = events[-1]
    assert final["counts"] == {"passed": 2, "error": 2}
    assert final["records"] == 4
    assert "comparison_report.md" in final["reports"]
    records = mixed_workspace.results()
    assert {r["session_id"] for r in records} == session_ids


def test_plain_tests_stream_their_outcomes_too(workspace, pytester):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    pytester.makepyfile(
        test_plain="""
        import pytest
        def test_ok(): pass
        def test_no(): assert False, "nope"
        @pytest.mark.skip(reason="later")
        def test_later(): pass
        """
    )
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", "test_plain.py")
    finished = {e["nodeid"]: e for e in events_of(workspace) if e["event"] == "item.finish"}
    assert finished["test_plain.py::test_ok"]["outcome"] == "passed"
    assert finished["test_plain.py::test_no"]["outcome"] == "failed"
    assert "nope" in finished["test_plain.py::test_no"]["reason"]
    assert finished["test_plain.py::test_later"]["outcome"] == "skipped"
    assert finished["test_plain.py::test_later"]["reason"] == "later"


def test_a_secret_in_a_failure_never_reaches_the_stream(workspace, pytester, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    leaking = (
        "import os\ndef run(parameters):\n    raise RuntimeError(os.environ.get('LEAK', ''))\n"
    )
    monkeypatch.setenv("LEAK", SECRET)
    workspace.iteration("leaky", leaking).builtin_metrics().run("run-001").write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    text = (workspace.root / ".iterbench" / "events" / "events.jsonl").read_text()
    assert "item.finish" in text
    assert SECRET not in text


def test_without_iterbench_nothing_is_streamed(workspace, pytester):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    pytester.makepyfile(test_plain="def test_ok(): pass")
    pytester.runpytest("-p", "no:cacheprovider", "test_plain.py").assert_outcomes(passed=1)
    assert not (workspace.root / ".iterbench" / "events").exists()


def test_a_follower_reads_complete_lines_only_and_survives_rotation(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    follower = EventFollower(path)
    log.emit("a", n=1)
    with path.open("ab") as stream:
        stream.write(b'{"v": 1, "event": "half')  # a writer killed mid-line
    assert [e["event"] for e in follower.poll()] == ["a"]
    assert follower.poll() == []
    with path.open("ab") as stream:
        stream.write(b'"}\nnot json\n')
    assert [e["event"] for e in follower.poll()] == ["half"]
    log.close()
    rotated = EventLog(path, rotate_bytes=1)  # past the limit: the stream starts anew
    rotated.emit("b")
    rotated.close()
    assert (tmp_path / ROTATED_FILE).exists()
    assert [e["event"] for e in follower.poll()] == ["b"]


def test_a_follower_from_the_end_sees_only_what_comes_after(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.emit("old")
        follower = EventFollower(path, from_end=True)
        log.emit("new", text=clip("x" * 5000))
    (event,) = follower.poll()
    assert event["event"] == "new"
    assert len(event["text"]) == 2000
    assert event["pid"] == os.getpid()
    assert event["v"] == 1


def test_a_stream_that_cannot_be_written_never_stops_the_writer(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    log = EventLog(blocked / "events.jsonl")  # its folder is a file
    log.emit("lost")
    assert isinstance(log.failed, OSError)
