"""An interrupted orchestration says so, and resumes: Ctrl-C (or the studio's Stop) is not a failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_iterbench.cli import main
from pytest_iterbench.orchestrator import benchmark
from tests.orchestrator_helpers import (
    COUNTER_VARIABLE,
    STARTED_VARIABLE,
    manual_workspace,
    measured,
    results,
    steps,
)

CODE: dict[str, list[int] | None] = {"v1": [0, 1, 0, 0], "v2": [0, 1, 1, 0]}
#: v2's run lasts long enough to be interrupted once it has started (and v1 is measured).
SLEEP = {"v2": 4.0}
#: The grace ``_interrupt`` gives a child at each stage, in the tests.
GRACE = 0.3
#: First in each Python child: SIGINT raises KeyboardInterrupt, as a terminal's Ctrl-C finds
#: it. A shell that runs this suite in the background ignores SIGINT, and children inherit that.
PYTHON_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def _sigint_by_default() -> None:
    """Before exec: SIGINT at its default action, so that Python installs its KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _events(root: Path, kind: str) -> list[dict[str, object]]:
    stream = root / ".iterbench" / "events" / "events.jsonl"
    lines = stream.read_text(encoding="utf-8").splitlines() if stream.exists() else []
    return [e for e in map(json.loads, lines) if e["event"] == kind]


def _wait_for(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ctrl_c_in_the_benchmark_is_recorded_as_interrupted_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = manual_workspace(tmp_path / "ws", CODE, SLEEP)
    counter = tmp_path / "executions.txt"
    monkeypatch.setenv(COUNTER_VARIABLE, str(counter))
    started = tmp_path / "started"
    started.mkdir()
    monkeypatch.setenv(STARTED_VARIABLE, str(started))
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_iterbench", "orchestrate", "--dir", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_sigint_by_default,
    )  # fmt: skip
    try:
        # The benchmark's run() of v2 has started (not the smoke test's): its sleep leaves
        # seconds to interrupt it, however loaded the machine
        _wait_for((started / "v2 run").exists)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, (out, err)
    assert "interrupted:" in err
    assert "iterbench orchestrate --resume" in err
    assert "Traceback" not in err
    step = steps(root)["benchmark:run-001"]
    assert step["status"] == "interrupted"
    assert "--resume" in step["error"]
    finish = [e for e in _events(root, "step.finish") if e["step"] == "benchmark:run-001"]
    assert [e["status"] for e in finish] == ["interrupted"]
    assert [e["status"] for e in _events(root, "orchestration.finish")] == ["interrupted"]
    # pytest was interrupted too, and folded what it had measured before it stopped
    assert [(r["iteration_id"], r["status"]) for r in results(root) if r["status"] == "passed"] == [
        ("v1", "passed"),
        ("v1", "passed"),
    ]

    assert main(["orchestrate", "--dir", str(root), "--resume"]) == 0
    resumed = steps(root)
    assert resumed["benchmark:run-001"]["status"] == "done"
    assert resumed["benchmark:run-001"]["attempts"] == 2
    assert [r for r in measured(root) if r[2] == "passed"] == [
        ("v1", "accuracy", "passed", 75.0),
        ("v1", "f1_macro", "passed", pytest.approx(0.7333, abs=1e-3)),
        ("v2", "accuracy", "passed", 100.0),
        ("v2", "f1_macro", "passed", 1.0),
    ]
    runs = sorted(counter.read_text().splitlines())
    assert runs.count("v1 run") == 1, "v1 was measured before the interrupt: not again"
    assert runs.count("v2 run") == 1


@pytest.mark.parametrize(
    ("ignored", "ended_by"),
    [((), "its own KeyboardInterrupt"), ((signal.SIGINT,), "SIGTERM"),
     ((signal.SIGINT, signal.SIGTERM), "SIGKILL")],
)  # fmt: skip
def test_an_interrupt_for_the_orchestrator_alone_reaches_pytest_after_a_grace(
    monkeypatch: pytest.MonkeyPatch, ignored: tuple[int, ...], ended_by: str
) -> None:
    """Only this process got SIGINT: its pytest is given time, then interrupted, then stopped."""
    monkeypatch.setattr(benchmark, "INTERRUPT_GRACE", GRACE)
    code = (
        PYTHON_SIGINT + "import signal, sys, time\n"
        f"for s in {[int(s) for s in ignored]}: signal.signal(s, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "try:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    sys.exit(2)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        started = time.monotonic()
        benchmark._interrupt(child)
        waited = time.monotonic() - started
    expected = {
        "its own KeyboardInterrupt": 2,
        "SIGTERM": -signal.SIGTERM,
        "SIGKILL": -signal.SIGKILL,
    }
    assert child.returncode == expected[ended_by]
    stages = {"its own KeyboardInterrupt": 1, "SIGTERM": 2, "SIGKILL": 3}[ended_by]
    assert waited >= GRACE * stages - 0.05  # each stage waited its grace first
