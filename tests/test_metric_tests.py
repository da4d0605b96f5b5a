"""Metric tests and metric classes: how a developer adds a metric."""

from __future__ import annotations

import pytest

XDIST = pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])

SEED_BASE = '''
"""A verbatim copy of the seed's benchmarks/metrics/base.py: not pytest-iterbench's classes."""
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass
class MetricResult:
    metric_id: str
    value: float
    unit: str
    metadata: dict[str, Any] | None = None


class BaseMetric(ABC):
    metric_id: str
    higher_is_better: bool
    unit: str

    @abstractmethod
    def measure(self, iteration_path: str, entry_point: str,
                parameters: dict) -> MetricResult:
        ...

    def setup(self) -> None:
        pass

    def teardown(self) -> None:
        pass
'''

SEED_METRIC = """
from pathlib import Path

from seedmetrics.base import BaseMetric, MetricResult


class EntryPointSize(BaseMetric):
    metric_id = "entry_size"
    higher_is_better = False
    unit = "bytes"
    calls = []

    def setup(self):
        self.calls.append("setup")

    def measure(self, iteration_path, entry_point, parameters):
        size = (Path(iteration_path) / entry_point).stat().st_size
        return MetricResult(self.metric_id, size, self.unit, {"scale": parameters["scale"], "calls": list(self.calls)})
"""


@XDIST
def test_a_seed_signature_metric_class_works_unchanged(workspace, pytester, xdist):
    workspace.iteration("small", "def run(p):\n    return {}\n", parameters={"scale": 1})
    workspace.iteration(
        "large", "def run(p):\n    return {}\n" + "# padding\n" * 10, parameters={"scale": 2}
    )
    workspace.metric(
        "entry_size", "seedmetrics.size.EntryPointSize", unit="bytes", higher_is_better=False
    ).run().write()
    pytester.mkpydir("seedmetrics")
    pytester.path.joinpath("seedmetrics", "base.py").write_text(SEED_BASE)
    pytester.path.joinpath("seedmetrics", "size.py").write_text(SEED_METRIC)
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=2)
    records = {r["iteration_id"]: r for r in workspace.results()}
    small = len("def run(p):\n    return {}\n")
    assert records["small"]["value"] == small
    assert records["large"]["value"] == small + len("# padding\n") * 10
    assert records["small"]["unit"] == "bytes"
    assert records["large"]["metadata"]["scale"] == 2
    assert records["small"]["metadata"]["calls"] == ["setup"], (
        "the seed's setup() hook runs before measure()"
    )


@XDIST
def test_metric_class_options_and_pytest_iterbench_base_class(workspace, pytester, xdist):
    workspace.iteration("v1", "def run(p):\n    return {'score': 0.5}\n")
    workspace.metric(
        "scaled", "scaled_metric.Scaled", unit="points", options={"factor": 10}
    ).run().write()
    pytester.makepyfile(
        scaled_metric="""
        from pytest_iterbench import BaseMetric, MetricResult, timed

        class Scaled(BaseMetric):
            def __init__(self, factor):
                self.factor = factor

            def measure(self, iteration_path, entry_point, parameters):
                raise NotImplementedError

            @timed
            def measure_execution(self, execution):
                return MetricResult(self.metric_id, execution.outputs["score"] * self.factor, self.unit)
        """
    )
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=1)
    (record,) = workspace.results()
    assert record["value"] == 5.0
    assert record["metric_id"] == "scaled"
    assert record["metadata"]["wall_time_seconds"] >= 0


METRIC_TESTS = """
import pytest

@pytest.mark.metric("per_class")
def test_per_class(iteration, record_result):
    for label in (0, 1):
        record_result(iteration.outputs["y_pred"].count(label), label=label)

@pytest.mark.metric("threshold")
def test_threshold(iteration, record_result):
    share = sum(iteration.outputs["y_pred"]) / len(iteration.outputs["y_pred"])
    record_result(share)
    assert share > 0.3, f"too few positives: {share}"

@pytest.mark.metric("forgetful")
def test_forgetful(iteration, record_result):
    pass

@pytest.mark.metric("not_in_run")
def test_not_in_run(iteration, record_result):
    record_result(1)

def test_ordinary():
    pass
"""


@XDIST
def test_metric_tests_record_values_fail_and_are_deselected(workspace, pytester, xdist):
    workspace.iteration("few", "def run(p):\n    return {'y_pred': [0, 0, 0, 1]}\n")
    workspace.iteration("many", "def run(p):\n    return {'y_pred': [1, 1, 0, 1]}\n")
    for metric_id in ("per_class", "threshold", "forgetful", "not_in_run"):
        workspace.metric(metric_id, unit="count")
    workspace.run("run-001", metric_ids=["per_class", "threshold", "forgetful"]).write()
    pytester.mkpydir("metrics")
    pytester.path.joinpath("metrics", "test_custom.py").write_text(METRIC_TESTS)
    result = pytester.runpytest("--iterbench", "run-001", *xdist)
    # xdist's workers deselect, and its controller does not count them: records show it below.
    result.assert_outcomes(passed=4, failed=3, deselected=0 if xdist else 2)
    result.stdout.fnmatch_lines(
        ["*metric test metrics/test_custom.py::test_forgetful*recorded no value*"]
    )
    records = workspace.results()
    per_class = sorted(
        (r["iteration_id"], r["metadata"]["label"], r["value"])
        for r in records
        if r["metric_id"] == "per_class"
    )
    assert per_class == [("few", 0, 3), ("few", 1, 1), ("many", 0, 1), ("many", 1, 3)]
    threshold = {r["iteration_id"]: r for r in records if r["metric_id"] == "threshold"}
    assert threshold["few"]["status"] == "failed"
    assert threshold["few"]["value"] == 0.25, "a failed check keeps the value it recorded"
    assert threshold["few"]["reason"] == "too few positives: 0.25"
    assert threshold["many"]["status"] == "passed"
    forgetful = [r for r in records if r["metric_id"] == "forgetful"]
    assert {r["status"] for r in forgetful} == {"error"}
    assert "not_in_run" not in {r["metric_id"] for r in records}


@XDIST
def test_metric_test_with_unknown_metric_or_no_marker_is_a_collection_error(
    workspace, pytester, xdist
):
    workspace.iteration("v1").builtin_metrics().run().write()
    pytester.makepyfile(
        test_unknown="""
        import pytest

        @pytest.mark.metric("nope")
        def test_unknown(iteration, record_result):
            record_result(1)
        """,
        test_unmarked="""
        def test_unmarked(iteration, record_result):
            record_result(1)
        """,
    )
    result = pytester.runpytest(
        "--iterbench", "run-001", "test_unknown.py", "test_unmarked.py", *xdist
    )
    # Serial pytest stops at collection errors; xdist's controller reports them as failures.
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if xdist else pytest.ExitCode.INTERRUPTED)
    result.stdout.fnmatch_lines(
        [
            "*test_unknown.py::test_unknown: @pytest.mark.metric('nope'): unknown metric; metrics.json defines: accuracy, f1_macro*",
            "*test_unmarked.py::test_unmarked: a metric test needs @pytest.mark.metric('METRIC_ID')*",
        ]
    )


@XDIST
def test_failing_iteration_makes_its_metric_tests_errors(workspace, pytester, xdist):
    workspace.iteration("broken", "def run(p):\n    raise RuntimeError('no data')\n").metric(
        "custom"
    ).run().write()
    pytester.makepyfile(
        test_custom="""
        import pytest

        @pytest.mark.metric("custom")
        def test_custom(iteration, record_result):
            record_result(1)
        """
    )
    result = pytester.runpytest("--iterbench", "run-001", "test_custom.py", *xdist)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*iteration 'broken' error: RuntimeError: no data*"])
    (record,) = workspace.results()
    assert (record["status"], record["reason"], record["value"]) == (
        "error",
        "RuntimeError: no data",
        None,
    )
