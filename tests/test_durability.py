"""results.json loses nothing: not to kill -9, not to concurrent sessions; always valid JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from filelock import FileLock

KILLER_TEST = """
import os, signal
import pytest

@pytest.mark.metric("agreement")
def test_agreement(iteration, record_result):
    if iteration.id == "v2":
        os.kill(os.getpid(), signal.SIGKILL)  # the whole pytest session dies here, mid-run
    record_result(1.0)
"""


def test_a_killed_session_loses_no_finished_result(workspace, pytester):
    workspace.iteration("v1").iteration("v2").builtin_metrics().metric("agreement").run(
        "run-001"
    ).run("run-002", ["v1"], ["accuracy"]).write()
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_agreement.py").write_text(KILLER_TEST)
    killed = pytester.runpytest_subprocess("--iterbench", "run-001", "-p", "no:cacheprovider")
    assert killed.ret == -9
    assert not (workspace.root / "results.json").exists()
    finished = {"v1-accuracy", "v1-f1_macro", "v2-accuracy", "v2-f1_macro", "test_agreement[v1]"}
    (journal,) = (workspace.root / ".iterbench" / "journal").glob("*.jsonl")
    assert {
        json.loads(line)["nodeid"].split("::")[-1] for line in journal.read_text().splitlines()
    } == finished

    result = pytester.runpytest_subprocess("--iterbench", "run-002", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*recovered 5 records from interrupted sessions' journals*"])
    records = workspace.results()
    assert {r["nodeid"].split("::")[-1] for r in records if r["run_id"] == "run-001"} == finished
    assert [r["metric_id"] for r in records if r["run_id"] == "run-002"] == ["accuracy"]
    assert len({r["session_id"] for r in records}) == 2
    assert not list((workspace.root / ".iterbench" / "journal").glob("*.jsonl"))


@pytest.mark.slow
def test_concurrent_sessions_lose_nothing_and_locked_readers_always_see_valid_json(
    workspace, pytester
):
    slow_main = "import time\n\ndef run(parameters):\n    time.sleep(0.3)\n    return {'y_true': [0, 1], 'y_pred': [0, 1]}\n"
    for name in ("a1", "a2", "a3"):
        workspace.iteration(name, slow_main)
    workspace.builtin_metrics().run("run-001").write()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sessions = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pytest",
                "--iterbench",
                "run-001",
                "-p",
                "no:cacheprovider",
                "-q",
            ],
            cwd=workspace.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    results = workspace.root / "results.json"
    # A reader that takes the results lock, as the harness's own readers do, never sees an
    # append half done (docs/results.md: a lockless reader may, for the microseconds of one).
    lock = FileLock(workspace.root / ".iterbench" / "results.lock")
    reads = 0
    while any(session.poll() is None for session in sessions):
        if results.exists():
            with lock:
                json.loads(results.read_text())  # a torn write would raise here
            reads += 1
        time.sleep(0.005)
    outputs = [session.communicate()[0].decode() for session in sessions]
    assert [session.returncode for session in sessions] == [0, 0, 0], outputs
    records = workspace.results()
    assert len(records) == 3 * 6
    assert len({r["record_id"] for r in records}) == 18
    assert len({r["session_id"] for r in records}) == 3
    assert reads > 0
