"""Faults at the process level: dying workers and templates, escaping processes, floods, secrets.

Each inner session runs as a subprocess with a timeout, so a hang fails the
test instead of hanging the suite.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pytest_iterbench.execution.isolation import ExecutionRequest, ProcessTemplate, usable_timeout
from pytest_iterbench.execution.logs import LOG_LIMIT_BYTES

XDIST = pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
INNER_TIMEOUT = 240  # seconds: far beyond a healthy session, so only a hang reaches it


def run_session(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--iterbench", "run-001", "-p", "no:cacheprovider", *args, timeout=INNER_TIMEOUT
    )


def outcomes(records: list[dict]) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(r["iteration_id"], r["metric_id"]): (r["status"], r["reason"]) for r in records}


# -- a worker that dies --------------------------------------------------------------

WORKER_KILLER = """
import os
import pytest

@pytest.mark.metric("survives")
def test_survives(iteration, record_result):
    if iteration.outputs["name"] == "killer":
        os._exit(9)  # ends the xdist worker itself, not the iteration's child
    record_result(1)
"""


def test_a_metric_test_that_kills_its_worker_gets_an_error_record_and_the_session_ends(
    workspace, pytester
):
    for name in ("a", "killer", "c", "d"):
        workspace.iteration(name, f"def run(p):\n    return {{'name': {name!r}}}\n")
    workspace.metric("survives").run().write()
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_m.py").write_text(WORKER_KILLER)
    result = run_session(pytester, "-n", "2")
    result.stdout.fnmatch_lines(["*crashed while running*test_survives[[]killer[]]*"])
    by_pair = outcomes(workspace.results())
    assert set(by_pair) == {(n, "survives") for n in ("a", "killer", "c", "d")}
    status, reason = by_pair["killer", "survives"]
    assert status == "error"
    assert "worker crashed" in reason
    assert {by_pair[n, "survives"][0] for n in ("a", "c", "d")} == {"passed"}


# -- an iteration that kills the process template -------------------------------------

TEMPLATE_KILLER = """
import os, signal

def run(parameters):
    with open({log!r}, "a") as log:
        log.write("ran\\n")
    os.kill(os.getppid(), signal.SIGKILL)
"""


@XDIST
def test_an_iteration_that_kills_the_template_runs_once_and_the_next_one_runs(
    workspace, pytester, xdist
):
    runs_log = pytester.path / "runs.log"
    workspace.iteration("parricide", TEMPLATE_KILLER.format(log=str(runs_log)))
    workspace.iteration("after")
    workspace.builtin_metrics().run().write()
    run_session(pytester, *xdist).assert_outcomes(passed=2, failed=2)
    assert runs_log.read_text().count("ran") == 1, "every metric reads the one failed execution"
    by_pair = outcomes(workspace.results())
    for metric_id in ("accuracy", "f1_macro"):
        status, reason = by_pair["parricide", metric_id]
        assert status == "error"
        assert reason.startswith("the process template died")
        assert by_pair["after", metric_id][0] == "passed"


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e300, -1.0, 0.0])
def test_a_timeout_select_cannot_wait_for_means_no_timeout(timeout):
    assert usable_timeout(timeout) is None


def test_an_infinite_timeout_leaves_the_template_usable(tmp_path):
    (tmp_path / "main.py").write_text("def run(p):\n    return {'n': p['n']}\n")
    template = ProcessTemplate(preload=[])
    try:
        for n in (1, 2):
            request = ExecutionRequest(
                tmp_path, "main.py", {"n": n}, tmp_path / "r.pickle", tmp_path / "log",
                timeout=float("inf"),
            )  # fmt: skip
            outcome = template.execute(request)
            assert (outcome.status, outcome.result.get("outputs")) == ("ok", {"n": n})
    finally:
        template.close()


# -- processes that outlive their execution -------------------------------------------

ESCAPES = """
import subprocess, sys, time

def run(parameters):
    sleeper = [sys.executable, "-c", "import time; time.sleep(300)", {token!r}]
    subprocess.Popen(sleeper)  # same process group
    subprocess.Popen(sleeper, start_new_session=True)  # setsid: leaves the group
    subprocess.Popen([sys.executable, "-c",
        "import os, subprocess, sys; subprocess.Popen(sys.argv[1:], start_new_session=True); os._exit(0)",
        *sleeper])  # a daemon: its parent exits at once
    if parameters.get("hang"):
        time.sleep(300)
    return {{"y_true": [1], "y_pred": [1]}}
"""


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@XDIST
def test_no_process_an_iteration_started_outlives_the_session(workspace, pytester, xdist):
    token = f"iterbench-escape-{os.getpid()}-{len(xdist)}"
    workspace.iteration("returns", ESCAPES.format(token=token))
    workspace.iteration("hangs", ESCAPES.format(token=token), parameters={"hang": True})
    workspace.builtin_metrics().run().write()
    result = run_session(pytester, "--iterbench-timeout", "5", *xdist)
    result.assert_outcomes(passed=2, failed=2)
    assert {r["status"] for r in workspace.results() if r["iteration_id"] == "hangs"} == {"timeout"}
    assert processes_with(token) == []


# -- a flood of output ----------------------------------------------------------------

FLOOD = """
import sys

def run(parameters):
    chunk = "x" * 2**20
    for _ in range(parameters["megabytes"]):
        sys.stdout.write(chunk)  # one line, never a newline
    sys.stdout.write("\\nthe last words\\n")
    raise RuntimeError("flooded")
"""

PEAK_RSS_PLUGIN = """
import resource

def pytest_unconfigure(config):
    with open("peak_rss_kb.txt", "w") as handle:
        handle.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def flood_session(pytester: pytest.Pytester, workspace, megabytes: int) -> tuple[int, str]:
    workspace.iterations.clear()
    workspace.runs.clear()
    workspace.metrics.clear()
    workspace.iteration("flood", FLOOD, parameters={"megabytes": megabytes})
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric").run().write()
    pytester.makepyfile(peak_rss_plugin=PEAK_RSS_PLUGIN)
    result = run_session(pytester, "-p", "peak_rss_plugin")
    result.assert_outcomes(failed=1)
    peak_kb = int((pytester.path / "peak_rss_kb.txt").read_text())
    return peak_kb, result.stdout.str() + result.stderr.str()


def test_a_flood_of_output_costs_the_controller_no_memory_and_the_terminal_no_flood(
    workspace, pytester
):
    baseline_kb, _ = flood_session(pytester, workspace, megabytes=1)
    flooded_kb, output = flood_session(pytester, workspace, megabytes=50)
    assert flooded_kb - baseline_kb < 20 * 1024, "the 50 MB log was read into memory"
    assert len(output) < 100_000
    assert "the last words" in output
    assert "characters cut]" in output
    log = max(
        (pytester.path / ".iterbench" / "sessions").glob("*/flood*.log"), key=os.path.getmtime
    )
    assert log.stat().st_size <= LOG_LIMIT_BYTES + 200
    assert b"bytes dropped from the middle of this log]" in log.read_bytes()


# -- secrets --------------------------------------------------------------------------

CANARY = "sk-ant-canary-0123456789abcdef"

LEAKY = """
import os

KEY = {reversed_key!r}[::-1]  # the literal never appears in a file

def run(parameters):
    print("using key", KEY)
    return {{"y_true": [1], "y_pred": [1], "saw": sorted(n for n in os.environ if "CANARY" in n)}}
"""

LEAKY_METRIC = """
import pytest

@pytest.mark.metric("leaks")
def test_leaks(iteration, record_result):
    assert iteration.outputs["saw"] == [], "the iteration saw the secret variables"
    key = {reversed_key!r}[::-1]
    record_result(1)
    raise ValueError(f"the service refused key {{key}}")
"""


@XDIST
def test_a_secret_reaches_no_iteration_no_file_and_no_output(
    workspace, pytester, monkeypatch, xdist
):
    monkeypatch.setenv("ITERBENCH_CANARY_API_KEY", CANARY)
    workspace.iteration("leaky", LEAKY.format(reversed_key=CANARY[::-1]))
    workspace.metric("leaks").run().write()
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_leaks.py").write_text(
        LEAKY_METRIC.format(reversed_key=CANARY[::-1])
    )
    result = run_session(pytester, *xdist)
    result.assert_outcomes(failed=1)
    (record,) = workspace.results()
    assert record["reason"] == "ValueError: the service refused key [redacted]"
    assert CANARY not in result.stdout.str() + result.stderr.str()
    (log,) = (pytester.path / ".iterbench" / "sessions").glob("*/leaky*.log")
    assert "using key [redacted]" in log.read_text()
    leaking = [
        p for p in pytester.path.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()
    ]
    assert leaking == []
