"""``kill -9`` anywhere, then resume: the same results, reports and code, and nothing ran twice.

The orchestrator runs as a subprocess; the test hook ``ITERBENCH_ORCHESTRATE_KILL_AT``
makes it SIGKILL its whole process tree (the benchmark's pytest, the
iterations' children, itself) at a chosen point. Each execution of an
iteration appends a line to a counter file, so a test counts them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_iterbench.cli import main
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.orchestrator.killpoints import KILL_VARIABLE
from tests.orchestrator_helpers import (
    COUNTER_VARIABLE,
    manual_workspace,
    measured,
    orchestrate_process,
    results,
    steps,
)

CODE = {"v1": [0, 1, 0, 0], "v2": [0, 1, 1, 0]}
#: v2 runs long enough that a kill after v1's records lands inside v2's execution.
SLEEP = {"v2": 1.0}
_SESSION = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")
_COMMIT = re.compile(r"commit \| .* \|")  # the clone's workspace is a git repository


def _normal(report: str) -> str:
    return _COMMIT.sub("COMMIT", _TIME.sub("TIME", _SESSION.sub("SESSION", report)))


def _run(
    root: Path, counter: Path, *args: str, kill: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {COUNTER_VARIABLE: str(counter)} | ({KILL_VARIABLE: kill} if kill else {})
    return orchestrate_process(root, *args, env=env)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted orchestration, to compare with."""
    folder = tmp_path_factory.mktemp("reference")
    root = manual_workspace(folder / "ws", CODE, SLEEP)
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.setenv(COUNTER_VARIABLE, str(folder / "executions.txt"))
        assert main(["orchestrate", "--dir", str(root)]) == 0  # in this process: no start-up
    return root


def _assert_same_as(root: Path, reference: Path, counter: Path) -> None:
    assert measured(root) == measured(reference)
    assert len(results(root)) == 4  # nothing recorded twice
    for code in ("iterations/v1/main.py", "iterations/v2/main.py", "plan.json", "runs.json"):
        assert (root / code).read_bytes() == (reference / code).read_bytes()
    report = (root / "reports" / "comparison_report.md").read_text()
    assert _normal(report) == _normal((reference / "reports" / "comparison_report.md").read_text())
    executions = sorted(counter.read_text().splitlines())
    assert executions == ["v1 run", "v1 smoke", "v2 run", "v2 smoke"]  # each ran once


#: Where each attempt is killed, in order: every step boundary kind, and inside the benchmark.
#: The last ("persist:before") leaves every other step committed and pushed.
KILLS = [
    "implement:v2:before",
    "benchmark:run-001:records=2",
    "benchmark:run-001:after",
    "report:run-001:before",
    "persist:before",
]


@pytest.mark.slow
def test_killed_again_and_again_then_resumed_in_a_fresh_clone_gives_the_uninterrupted_result(
    tmp_path: Path, reference: Path
) -> None:
    """One workspace, killed at each point in turn, each resume going a little further;
    then the first machine is gone and a fresh clone of the remote finishes the work."""
    root, remote, counter = tmp_path / "ws", tmp_path / "remote.git", tmp_path / "executions.txt"
    manual_workspace(root, CODE, SLEEP)
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    for number, kill_at in enumerate(KILLS):
        resume = ["--resume"] if number else []
        killed = _run(root, counter, *resume, "--git-push", str(remote), kill=kill_at)
        assert killed.returncode == -9, (kill_at, killed.stdout + killed.stderr)
        step = kill_at.rsplit(":", 1)[0]
        expected = "done" if kill_at.endswith(":after") else "running"
        assert steps(root)[step]["status"] == expected, kill_at
    clone = tmp_path / "elsewhere" / "ws"
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
    shutil.rmtree(root)  # the first machine is gone: the remote has everything
    assert not (clone / ".iterbench").exists()
    resumed = _run(clone, counter, "--resume", "--git-push", "origin")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for step in ("benchmark:run-001", "report:run-001"):
        assert f"{step}: already done" in resumed.stdout, f"the clone continues: {step} not redone"
    _assert_same_as(clone, reference, counter)
    attempts = {step: record["attempts"] for step, record in steps(clone).items()}
    killed_running = {"implement:v2", "benchmark:run-001", "report:run-001"}
    # persist was killed running on the first machine, never committed so: the clone runs it once.
    assert attempts == {step: 2 if step in killed_running else 1 for step in attempts}
    log = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%s"], capture_output=True, text=True
    )
    assert log.stdout.splitlines()[0] == "iterbench: persist done"


@pytest.mark.slow
def test_kill_after_the_model_wrote_code_resumes_without_asking_again(tmp_path: Path) -> None:
    from tests.test_orchestrator_model import TOY, toy_plan_answer

    root = tmp_path / "ws"
    root.mkdir()
    first = tmp_path / "first.json"
    first.write_text(json.dumps([
        ["submit_plan", toy_plan_answer()],
        ["submit_iteration_code", {"code": TOY}],
        ["submit_iteration_code", {"code": TOY.replace("[0, 1, 0, 0]", "[0, 1, 1, 0]")}],
    ]))  # fmt: skip
    second = tmp_path / "second.json"
    second.write_text("[]")  # no more answers: any call to the model would fail the step
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-test-orchestrator-0000"}
    script = str(Path(__file__).with_name("orchestrator_fake_cli.py"))
    argv = ["orchestrate", "toy task", "--dir", str(root)]
    killed = subprocess.run(
        [sys.executable, script, str(first), *argv], capture_output=True, text=True,
        env={**env, KILL_VARIABLE: "implement:v2-toy:written"}, start_new_session=True, timeout=240,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert steps(root)["implement:v2-toy"]["status"] == "running"
    resumed = subprocess.run(
        [sys.executable, script, str(second), "orchestrate", "--resume", "--dir", str(root)],
        capture_output=True, text=True, start_new_session=True, timeout=240,
        env={**env, KILL_VARIABLE: "benchmark:run-001:before"},  # the model's part is over
    )  # fmt: skip
    assert resumed.returncode == -9, resumed.stdout + resumed.stderr
    recorded = steps(root)
    assert recorded["implement:v2-toy"]["status"] == "done"
    assert recorded["implement:v2-toy"]["attempts"] == 2
    assert recorded["implement:v1-toy"]["attempts"] == 1
    assert "[0, 1, 1, 0]}" in (root / "iterations" / "v2-toy" / "main.py").read_text()
    roles = sorted(t.role for t in TraceStore(root).records())
    assert roles == ["planner", "solver", "solver"], "no call made twice"
