"""Trustworthy measurement under xdist: exclusive timings, thread caps, statistics, memory."""

from __future__ import annotations

import json

import pytest

STAMPING_MAIN = """
import json, os, time
from pathlib import Path

def rendezvous(folder):
    # The first executions on the two workers wait for each other, so the
    # workers' items run side by side from then on (worker start-up varies).
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    (folder / str(os.getpid())).touch()
    deadline = time.time() + 10
    while len(list(folder.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.01)

def run(parameters):
    if "rendezvous" in parameters:
        rendezvous(parameters["rendezvous"])
    start = time.time()
    time.sleep(parameters["sleep"])
    with open(parameters["stamps"], "a") as handle:
        handle.write(json.dumps([parameters["name"], os.getpid(), start, time.time()]) + "\\n")
    return {"y_true": [1, 0], "y_pred": [1, 0], "omp": os.environ.get("OMP_NUM_THREADS")}
"""


def stamping_workspace(workspace, count=4, sleep=0.4, rendezvous=True):
    stamps = workspace.root / "stamps.jsonl"
    for index in range(count):
        name = f"it{index}"
        parameters = {"name": name, "sleep": sleep, "stamps": str(stamps)}
        if rendezvous:
            parameters["rendezvous"] = str(workspace.root / "started")
        workspace.iteration(name, STAMPING_MAIN, parameters=parameters)
    return stamps


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def read_stamps(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("exclusive", [True, False], ids=["exclusive", "not-exclusive"])
def test_timing_measurements_never_overlap_other_items_under_xdist(workspace, pytester, exclusive):
    stamps = stamping_workspace(workspace)
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.metric(
        "timing",
        "pytest_iterbench.metrics.TimingMetric",
        unit="seconds",
        higher_is_better=False,
        options={"rounds": 2, "warmup_rounds": 0},
    )
    workspace.run().write()
    flags = [] if exclusive else ["--iterbench-no-exclusive"]
    pytester.runpytest(
        "--iterbench", "run-001", "-n", "2", "-p", "no:cacheprovider", *flags
    ).assert_outcomes(passed=8)
    timings = [r for r in workspace.results() if r["metric_id"] == "timing"]
    assert {r["environment"]["exclusive_timing"] for r in timings} == {exclusive}
    calls = read_stamps(stamps)
    clashes = [
        (record["iteration_id"], name)
        for record in timings
        for name, _, start, end in calls
        if name != record["iteration_id"]
        and overlaps(
            (record["metadata"]["started_at"], record["metadata"]["finished_at"]), (start, end)
        )
    ]
    if exclusive:
        assert clashes == [], "a timing measurement ran while another iteration executed"
    else:
        assert clashes, "without exclusivity the workers' items overlap (what this check is for)"


@pytest.mark.slow
def test_a_run_measuring_execution_time_executes_iterations_one_at_a_time(workspace, pytester):
    stamps = stamping_workspace(workspace, sleep=0.3, rendezvous=False)
    workspace.metric(
        "exec_time",
        "pytest_iterbench.metrics.ExecutionTimeMetric",
        unit="seconds",
        higher_is_better=False,
    ).run().write()
    pytester.runpytest(
        "--iterbench", "run-001", "-n", "2", "-p", "no:cacheprovider"
    ).assert_outcomes(passed=4)
    calls = [(start, end) for _, _, start, end in read_stamps(stamps)]
    assert len(calls) == 4
    assert not any(overlaps(a, b) for i, a in enumerate(calls) for b in calls[i + 1 :])
    assert {r["metadata"]["exclusive"] for r in workspace.results()} == {True}
    assert all(r["value"] >= 0.3 for r in workspace.results())


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_thread_caps_are_applied_and_recorded(workspace, pytester, xdist, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    stamping_workspace(workspace, count=2, sleep=0, rendezvous=False)
    workspace.metric("omp", "omp_metric.Omp").run().write()
    pytester.makepyfile(
        omp_metric="""
        from pytest_iterbench import BaseMetric, MetricResult

        class Omp(BaseMetric):
            def measure(self, iteration_path, entry_point, parameters):
                raise NotImplementedError

            def measure_execution(self, execution):
                omp = execution.outputs["omp"]
                return MetricResult("omp", -1 if omp is None else int(omp), "")
        """
    )
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist).assert_outcomes(
        passed=2
    )
    records = workspace.results()
    environments = [r["environment"] for r in records]
    if xdist:
        cap = max(1, environments[0]["cpus_available"] // 2)
        assert {e["thread_cap"] for e in environments} == {cap}
        assert {e["xdist_workers"] for e in environments} == {2}
        assert {r["value"] for r in records} == {cap}, "the iteration's process saw the cap"
    else:
        assert {e["thread_cap"] for e in environments} == {None}
        assert {e["xdist_workers"] for e in environments} == {1}
        assert {r["value"] for r in records} == {-1}, "a serial session is not capped"


def test_timing_metric_records_statistics_and_honours_single_round_iterations(workspace, pytester):
    work = "def run(parameters):\n    return {'total': sum(range(parameters['n']))}\n"
    workspace.iteration("small", work, parameters={"n": 1000})
    workspace.iteration(
        "expensive", work, parameters={"n": 200000}, timing={"rounds": 1, "warmup_rounds": 0}
    )
    workspace.metric(
        "timing",
        "pytest_iterbench.metrics.TimingMetric",
        unit="seconds",
        higher_is_better=False,
        options={"max_time": 0.2},
    )
    workspace.run().write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider").assert_outcomes(passed=2)
    records = {r["iteration_id"]: r for r in workspace.results()}
    small, expensive = records["small"]["metadata"], records["expensive"]["metadata"]
    for field in (
        "min",
        "max",
        "mean",
        "stddev",
        "median",
        "iqr",
        "q1",
        "q3",
        "outliers",
        "rounds",
        "iterations_per_round",
    ):
        assert field in small, field
    assert small["rounds"] >= 5
    assert small["rounds"] == len(small["data"])
    assert small["min"] <= small["median"] <= small["max"]
    assert records["small"]["value"] == small["median"]
    assert expensive["rounds"] == 1
    assert expensive["warmup_rounds"] == 0
    assert records["expensive"]["value"] > records["small"]["value"]


MEASURE_TESTS = """
import pytest

def work(n):
    return sum(range(n))

@pytest.mark.metric("fn_time")
def test_fn_time(iteration, measure_time):
    stats = measure_time(work, iteration.outputs["n"], max_time=0.1)
    assert stats["rounds"] >= 5

@pytest.mark.metric("bench_time")
def test_bench_time(iteration, benchmark):
    benchmark(work, iteration.outputs["n"])
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_functions_timed_in_metric_tests_and_pytest_benchmark_land_in_results(
    workspace, pytester, xdist
):
    workspace.iteration("small", "def run(p):\n    return {'n': 100}\n").iteration(
        "large", "def run(p):\n    return {'n': 20000}\n"
    )
    workspace.metric("fn_time", unit="seconds", higher_is_better=False).metric(
        "bench_time", unit="seconds", higher_is_better=False
    ).run().write()
    pytester.makepyfile(test_times=MEASURE_TESTS)
    result = pytester.runpytest(
        "--iterbench",
        "run-001",
        "-p",
        "no:cacheprovider",
        "--benchmark-max-time=0.05",
        "test_times.py",
        *xdist,
    )
    result.assert_outcomes(passed=4)
    records = {(r["iteration_id"], r["metric_id"]): r for r in workspace.results()}
    for metric_id in ("fn_time", "bench_time"):
        small, large = records["small", metric_id], records["large", metric_id]
        assert small["status"] == large["status"] == "passed"
        assert small["value"] == small["metadata"]["median"]
        assert small["metadata"]["rounds"] >= 1
        assert large["value"] > small["value"], metric_id
        assert small["environment"]["exclusive_timing"] is True
    assert records["small", "bench_time"]["metadata"]["source"] == "pytest-benchmark"
    assert "iqr" in records["large", "bench_time"]["metadata"]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_memory_is_attributed_to_the_hungry_iteration_alone(workspace, pytester, xdist):
    hungry = "import time\n\ndef run(parameters):\n    hog = bytearray(150 * 1024**2)\n    time.sleep(0.3)\n    return {'n': len(hog)}\n"
    light = "import time\n\ndef run(parameters):\n    time.sleep(0.3)\n    return {}\n"
    workspace.iteration("hungry", hungry).iteration("light", light)
    workspace.metric(
        "peak_memory",
        "pytest_iterbench.metrics.PeakMemoryMetric",
        unit="MB",
        higher_is_better=False,
    ).run().write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist).assert_outcomes(
        passed=2
    )
    values = {r["iteration_id"]: r["value"] for r in workspace.results()}
    assert 140 <= values["hungry"] < 200
    assert values["light"] < 20
