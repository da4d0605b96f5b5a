"""Iterations that crash, exit, die, hang or eat memory: error/timeout records, the session carries on."""

from __future__ import annotations

import pytest

FAILING = {
    "raises": (
        "def run(parameters):\n    raise ValueError('bad input shape')\n",
        "error",
        "ValueError: bad input shape",
    ),
    "exits": (
        "import sys\n\ndef run(parameters):\n    sys.exit(3)\n",
        "error",
        "the iteration called sys.exit(3)",
    ),
    "hard-exits": (
        "import os\n\ndef run(parameters):\n    os._exit(5)\n",
        "error",
        "exited with code 5 before returning a result",
    ),
    "segfaults": (
        "import os, signal\n\ndef run(parameters):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
        "error",
        "killed by SIGSEGV",
    ),
    "hangs": (
        "import time\n\ndef run(parameters):\n    time.sleep(60)\n",
        "timeout",
        "exceeded the timeout of 1 s",
    ),
    "eats-memory": (
        "def run(parameters):\n    hog = bytearray(2 * 1024**3)\n    return {'n': len(hog)}\n",
        "error",
        "MemoryError: out of memory (memory limit: 200 MB",
    ),
    "no-run": ("VALUE = 1\n", "error", "main.py defines no run(parameters) function"),
    "returns-list": (
        "def run(parameters):\n    return [1, 2]\n",
        "error",
        "run() returned list, expected a dict of outputs",
    ),
    "prints-and-raises": (
        "def run(parameters):\n    print('loading data from /nowhere')\n    raise FileNotFoundError('/nowhere')\n",
        "error",
        "FileNotFoundError: /nowhere",
    ),
}


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_failing_iterations_become_records_with_reasons_and_others_pass(workspace, pytester, xdist):
    workspace.iteration("healthy")
    for iteration_id, (main, _, _) in FAILING.items():
        workspace.iteration(iteration_id, main)
    workspace.builtin_metrics().run().write()
    result = pytester.runpytest(
        "--iterbench",
        "run-001",
        "--iterbench-timeout",
        "1",
        "--iterbench-memory-limit",
        "200",
        *xdist,
    )
    result.assert_outcomes(passed=2, failed=2 * len(FAILING))
    records = workspace.results()
    assert len(records) == 2 * (len(FAILING) + 1)
    by_pair = {(r["iteration_id"], r["metric_id"]): r for r in records}
    assert by_pair["healthy", "accuracy"]["status"] == "passed"
    assert by_pair["healthy", "accuracy"]["value"] == pytest.approx(75.0)
    for iteration_id, (_, status, reason) in FAILING.items():
        for metric_id in ("accuracy", "f1_macro"):
            record = by_pair[iteration_id, metric_id]
            assert record["status"] == status, iteration_id
            assert record["value"] is None
            assert reason in record["reason"], (iteration_id, record["reason"])
    report = workspace.report()
    assert "| hangs | timeout | timeout |" in report
    assert "- `raises` × `accuracy`: error: ValueError: bad input shape" in report


def test_failure_shows_traceback_and_printed_output(workspace, pytester):
    workspace.iteration(
        "prints-and-raises", FAILING["prints-and-raises"][0]
    ).builtin_metrics().run().write()
    result = pytester.runpytest("--iterbench", "run-001")
    result.stdout.fnmatch_lines(
        [
            "*iteration 'prints-and-raises' error: FileNotFoundError: /nowhere",
            "*Traceback*",
            "*last lines printed (full log:*",
            "loading data from /nowhere",
        ]
    )


def test_timeout_kills_the_processes_the_iteration_started(workspace, pytester):
    main = """
    import subprocess, sys, time
    from pathlib import Path

    def run(parameters):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        Path("grandchild.pid").write_text(str(child.pid))
        time.sleep(60)
    """
    workspace.iteration("spawns", main).builtin_metrics().run().write()
    pytester.runpytest("--iterbench", "run-001", "--iterbench-timeout", "1").assert_outcomes(
        failed=2
    )
    pid = int((workspace.root / "iterations" / "spawns" / "grandchild.pid").read_text())
    import os
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{pid}/stat") as stat:  # reaped later by init: a zombie counts as dead
            if stat.read().split()[2] == "Z":
                break
        time.sleep(0.05)
    else:
        pytest.fail(f"process {pid} started by the timed-out iteration is still running")


def test_per_iteration_timeout_overrides_the_session_default(workspace, pytester):
    workspace.iteration(
        "slowish",
        "import time\n\ndef run(parameters):\n    time.sleep(1.5)\n    return {'y_true': [1], 'y_pred': [1]}\n",
        timeout=0.5,
    )
    workspace.iteration(
        "patient",
        "import time\n\ndef run(parameters):\n    time.sleep(1.5)\n    return {'y_true': [1], 'y_pred': [1]}\n",
    )
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%").run().write()
    pytester.runpytest("--iterbench", "run-001", "--iterbench-timeout", "10").assert_outcomes(
        passed=1, failed=1
    )
    statuses = {r["iteration_id"]: r["status"] for r in workspace.results()}
    assert statuses == {"slowish": "timeout", "patient": "passed"}


def test_missing_outputs_name_the_keys_found(workspace, pytester):
    workspace.iteration(
        "no-labels", "def run(parameters):\n    return {'predictions': [1]}\n"
    ).builtin_metrics().run().write()
    pytester.runpytest("--iterbench", "run-001").assert_outcomes(failed=2)
    reasons = {r["reason"] for r in workspace.results()}
    assert reasons == {
        "IterbenchError: iteration 'no-labels': run() outputs lack y_true, y_pred; found keys: predictions"
    }


def test_gpu_metric_is_skipped_with_a_reason_without_cuda(workspace, pytester):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the metric is measured, not skipped")
    workspace.iteration("v1").metric(
        "gpu_memory", "pytest_iterbench.metrics.GpuMemoryMetric", unit="MB", higher_is_better=False
    ).run().write()
    result = pytester.runpytest("--iterbench", "run-001", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*GPU required but CUDA is not available*"])
    (record,) = workspace.results()
    assert record["status"] == "skipped"
    assert record["reason"] == "GPU required but CUDA is not available on this machine"
    assert "| v1 | skipped |" in workspace.report()


def test_performance_metrics_read_the_shared_execution(workspace, pytester):
    main = """
    import time

    def run(parameters):
        hog = bytearray(150 * 1024**2)  # touched: counts in RSS
        time.sleep(0.3)
        return {"n": len(hog)}
    """
    workspace.iteration("hungry", main).iteration("light", "def run(parameters):\n    return {}\n")
    workspace.performance_metrics()
    workspace.run().write()
    pytester.runpytest("--iterbench", "run-001").assert_outcomes(passed=4)
    values = {(r["iteration_id"], r["metric_id"]): r for r in workspace.results()}
    assert values["hungry", "exec_time"]["value"] >= 0.3
    assert values["light", "exec_time"]["value"] < 0.3
    assert values["hungry", "exec_time"]["metadata"]["run_seconds"] >= 0.3
    assert 140 <= values["hungry", "peak_memory"]["value"] < 200, (
        "the hog is attributed to its own iteration"
    )
    assert values["light", "peak_memory"]["value"] < 20, "and not to its neighbour"
