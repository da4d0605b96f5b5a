"""A run end to end: items, records in results.json, the report, xdist, isolation."""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import record_keys

COUNTING_MAIN = """
from pathlib import Path

def run(parameters):
    with Path("executions.txt").open("a") as handle:  # cwd is the iteration's folder
        handle.write("x")
    return {"y_true": [0, 1, 1, 0], "y_pred": parameters["pred"]}
"""

METRIC_TEST = """
import pytest

@pytest.mark.metric("agreement")
def test_agreement(iteration, record_result):
    y_true, y_pred = iteration.outputs["y_true"], iteration.outputs["y_pred"]
    record_result(sum(a == b for a, b in zip(y_true, y_pred)) / len(y_true), n=len(y_true))
"""


@pytest.fixture
def two_iterations(workspace, pytester):
    workspace.iteration("v1", COUNTING_MAIN, parameters={"pred": [0, 1, 0, 0]})
    workspace.iteration("v2", COUNTING_MAIN, parameters={"pred": [0, 1, 1, 0]}, parent="v1")
    workspace.builtin_metrics().metric("agreement", unit="")
    workspace.run("run-001").write()
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_agreement.py").write_text(METRIC_TEST)
    return workspace


def executions(workspace, iteration_id):
    return len((workspace.root / "iterations" / iteration_id / "executions.txt").read_text())


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_run_records_every_pair_once_and_executes_each_iteration_once(
    two_iterations, pytester, xdist
):
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist)
    result.assert_outcomes(passed=6)
    records = two_iterations.results()
    assert record_keys(records) == {
        ("run-001", i, m) for i in ("v1", "v2") for m in ("accuracy", "f1_macro", "agreement")
    }
    assert len(records) == 6
    by_pair = {(r["iteration_id"], r["metric_id"]): r for r in records}
    assert by_pair["v1", "accuracy"]["value"] == pytest.approx(75.0)
    assert by_pair["v2", "accuracy"]["value"] == pytest.approx(100.0)
    assert by_pair["v1", "agreement"]["value"] == pytest.approx(0.75)
    assert by_pair["v1", "agreement"]["metadata"] == {"n": 4}
    assert by_pair["v1", "accuracy"]["unit"] == "%"
    assert by_pair["v2", "accuracy"]["iteration_parent"] == "v1"
    assert by_pair["v1", "f1_macro"]["higher_is_better"] is True
    # The metric's declared type travels with its records (the report's statistic follows it).
    assert by_pair["v1", "accuracy"]["metric_type"] == "ml_quality"
    assert by_pair["v1", "f1_macro"]["metric_type"] is None
    assert by_pair["v1", "accuracy"]["config_hash"] != by_pair["v2", "accuracy"]["config_hash"], (
        "parameters differ"
    )
    assert by_pair["v2", "f1_macro"]["parameters"] == {"pred": [0, 1, 1, 0]}
    assert {r["status"] for r in records} == {"passed"}
    assert len({r["session_id"] for r in records}) == 1
    assert len({r["record_id"] for r in records}) == 6
    env = records[0]["environment"]
    assert env["python"]
    assert env["platform"].startswith("linux")
    assert "scikit-learn" in env["packages"]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["executed_at"]) for r in records
    )
    assert executions(two_iterations, "v1") == 1
    assert executions(two_iterations, "v2") == 1
    for iteration_id in ("v1", "v2"):
        workers = {
            r["environment"]["xdist_worker"] for r in records if r["iteration_id"] == iteration_id
        }
        assert len(workers) == 1, "one execution's items on one worker"
        assert (None in workers) == (not xdist)
    report = two_iterations.report()
    assert "| v1 | 75 | 0.7333 | 0.7500 |" in report
    assert "| v2 | **100** | **1** | **1** |" in report
    cap = max(1, len(os.sched_getaffinity(0)) // 2)
    measurement = (
        f"2 xdist workers, threads capped at {cap}, timings exclusive (per host)"
        if xdist
        else "1 xdist worker, threads not capped, timings exclusive (per host)"
    )
    assert f"| Measurement | {measurement} |" in report


def test_serial_and_xdist_runs_produce_the_same_record_set(two_iterations, pytester):
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider").assert_outcomes(passed=6)
    serial = two_iterations.results()
    pytester.runpytest(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "-n", "2"
    ).assert_outcomes(passed=6)
    both = two_iterations.results()
    assert both[:6] == serial, "an append-only file keeps the earlier records as they were"
    xdist = both[6:]

    def values(records):
        return {(r["run_id"], r["iteration_id"], r["metric_id"]): r["value"] for r in records}

    assert values(xdist) == values(serial)
    assert {r["config_hash"] for r in xdist} == {r["config_hash"] for r in serial}, (
        "an unchanged configuration keeps its hash"
    )
    assert {r["session_id"] for r in xdist}.isdisjoint({r["session_id"] for r in serial})
    assert executions(two_iterations, "v1") == 2  # once per session


def test_item_ids_are_readable_and_selectable(two_iterations, pytester):
    result = pytester.runpytest(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "--collect-only", "-q"
    )
    result.stdout.fnmatch_lines(
        [
            "runs.json::run-001::v1-accuracy",
            "runs.json::run-001::v1-f1_macro",
            "runs.json::run-001::v2-accuracy",
            "runs.json::run-001::v2-f1_macro",
            "metrics/test_agreement.py::test_agreement[[]v1[]]",
            "metrics/test_agreement.py::test_agreement[[]v2[]]",
        ]
    )
    pytester.runpytest(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "-k", "v2-accuracy"
    ).assert_outcomes(passed=1)
    assert record_keys(two_iterations.results()) == {("run-001", "v2", "accuracy")}
    assert not (two_iterations.root / "iterations" / "v1" / "executions.txt").exists(), (
        "a deselected iteration never runs"
    )


def test_last_failed_reruns_only_the_failed_item(workspace, pytester):
    workspace.iteration("good").iteration(
        "bad", "def run(parameters):\n    raise ValueError('boom')\n"
    )
    workspace.builtin_metrics().run().write()
    pytester.runpytest("--iterbench", "run-001").assert_outcomes(passed=2, failed=2)
    pytester.runpytest("--iterbench", "run-001", "--lf").assert_outcomes(failed=2, deselected=2)


def test_without_iterbench_the_plugin_leaves_a_suite_alone(pytester):
    pytester.makepyfile(
        test_plain="""
        import pytest

        def test_plain():
            assert 1 + 1 == 2

        @pytest.mark.metric("m")
        def test_metric(iteration, record_result):
            record_result(1)
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*run it with --iterbench RUN_ID*"])
    assert not (pytester.path / "results.json").exists()


#: What pytest imports of the package in a session without ``--iterbench``.
IDLE_PLUGIN_MODULES = {
    "pytest_iterbench",
    "pytest_iterbench.plugin",
    "pytest_iterbench.hookspec",
    "pytest_iterbench.lazy",
    "pytest_iterbench.harness",
    "pytest_iterbench.harness.fixtures",
    "pytest_iterbench.harness.options",
    "pytest_iterbench.harness.stash",
    "pytest_iterbench.harness.target",
}


def test_without_iterbench_the_plugin_imports_none_of_the_harness(pytester):
    """A suite that never names a run does not pay for the workspace, the session or the store."""
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            names = sorted(m for m in sys.modules if m.split(".")[0] == "pytest_iterbench")
            with open("imported.txt", "w") as handle:
                handle.write("\\n".join(names))
        """
    )
    pytester.makepyfile(
        test_plain="""
        import pytest

        def test_plain():
            pass

        @pytest.mark.metric("m")
        def test_metric(iteration, measure_time):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    imported = set((pytester.path / "imported.txt").read_text().split())
    assert "pytest_iterbench.plugin" in imported, "the plugin was not loaded at all"
    assert imported - IDLE_PLUGIN_MODULES == set()


def test_iterations_are_isolated_from_each_other(workspace, pytester):
    main = """
    import sys
    import model

    def run(parameters):
        return {"value": model.VALUE, "others": sorted(m for m in sys.modules if m in ("model", "helper_b"))}
    """
    workspace.iteration("a", main, files={"model.py": "VALUE = 'a'\n"})
    workspace.iteration(
        "b",
        main,
        files={"model.py": "import helper_b\nVALUE = helper_b.X\n", "helper_b.py": "X = 'b'\n"},
    )
    workspace.metric("value", "usermetrics.Value").run().write()
    pytester.makepyfile(
        usermetrics="""
        from pytest_iterbench import BaseMetric, MetricResult

        class Value(BaseMetric):
            def measure(self, iteration_path, entry_point, parameters):
                raise AssertionError("measure_execution is used")

            def measure_execution(self, execution):
                return MetricResult("value", len(execution.outputs["others"]), "", {"value": execution.outputs["value"]})
        """
    )
    pytester.runpytest("--iterbench", "run-001").assert_outcomes(passed=2)
    records = {r["iteration_id"]: r for r in workspace.results()}
    assert records["a"]["metadata"] == {"value": "a"}
    assert records["a"]["value"] == 1, "iteration a sees only its own model, not b's helper"
    assert records["b"]["metadata"] == {"value": "b"}
    assert records["b"]["value"] == 2


def test_iterbench_dir_option_and_ini(workspace, pytester):
    workspace.root = pytester.mkdir("ws")
    workspace.iteration("v1").builtin_metrics().run().write()
    pytester.runpytest("--iterbench", "run-001", "--iterbench-dir", "ws").assert_outcomes(passed=2)
    assert len(workspace.results()) == 2
    pytester.makeini("[pytest]\niterbench_dir = ws\n")
    pytester.runpytest("--iterbench", "run-001").assert_outcomes(passed=2)
    assert len(workspace.results()) == 4
    assert not (pytester.path / "results.json").exists()


SEEDED_MAIN = """
import random
from pathlib import Path

def run(parameters):
    with Path("executions.txt").open("a") as handle:
        handle.write("x")
    rng = random.Random(parameters.get("seed"))
    return {"y_true": [1] * 10, "y_pred": [int(rng.random() < 0.7) for _ in range(10)], "seed": parameters.get("seed")}
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_repeats_with_seeds_execute_once_per_repeat_and_record_each(workspace, pytester, xdist):
    workspace.iteration("v1", SEEDED_MAIN, parameters={"depth": 3}).iteration(
        "v2", SEEDED_MAIN, repeats=2
    )
    workspace.builtin_metrics().metric("seen_seed").run().write()
    runs = json.loads((workspace.root / "runs.json").read_text())
    runs["runs"][0]["seeds"] = [11, 22, 33]
    (workspace.root / "runs.json").write_text(json.dumps(runs))
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_seen.py").write_text(
        "import pytest\n\n@pytest.mark.metric('seen_seed')\ndef test_seen(iteration, record_result):\n    record_result(iteration.outputs['seed'])\n"
    )
    result = pytester.runpytest(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "--collect-only", "-q"
    )
    result.stdout.fnmatch_lines(
        [
            "runs.json::run-001::v1-accuracy-r0",
            "*v1-accuracy-r2",
            "*v2-f1_macro-r1",
            "metrics/test_seen.py::test_seen[[]v2-r1[]]",
        ]
    )
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist).assert_outcomes(
        passed=3 * 3 + 2 * 3
    )
    records = workspace.results()
    seen = sorted(
        (r["iteration_id"], r["repeat"], r["seed"], r["value"])
        for r in records
        if r["metric_id"] == "seen_seed"
    )
    assert seen == [
        ("v1", 0, 11, 11),
        ("v1", 1, 22, 22),
        ("v1", 2, 33, 33),
        ("v2", 0, 11, 11),
        ("v2", 1, 22, 22),
    ]
    v1 = {
        r["repeat"]: r
        for r in records
        if r["iteration_id"] == "v1" and r["metric_id"] == "accuracy"
    }
    assert v1[2]["parameters"] == {"depth": 3, "seed": 33}
    assert len({r["value"] for r in v1.values()}) > 1, "different seeds, different predictions"
    assert executions(workspace, "v1") == 3
    assert executions(workspace, "v2") == 2


IMPORT_PROBE = """
import sys
from pathlib import Path

def pytest_unconfigure(config):
    heavy = sorted(m for m in ("matplotlib",) if m in sys.modules)
    Path("heavy_imports.txt").write_text(",".join(heavy))
"""


@pytest.mark.slow
def test_plots_are_drawn_only_when_asked_and_matplotlib_is_not_imported_otherwise(
    two_iterations, pytester
):
    pytester.makeconftest(IMPORT_PROBE)
    plots = two_iterations.root / "reports" / "plots"
    result = pytester.runpytest_subprocess("--iterbench", "run-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    assert (two_iterations.root / "reports" / "comparison_report.md").is_file()
    assert not plots.exists()
    assert (pytester.path / "heavy_imports.txt").read_text() == ""
    result = pytester.runpytest_subprocess(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "--iterbench-plots"
    )
    result.assert_outcomes(passed=6)
    pictures = sorted(p.name.rsplit("-", 1)[0] for p in plots.rglob("*.png"))
    assert pictures == ["qualities"]
    assert "matplotlib" in (pytester.path / "heavy_imports.txt").read_text()
