"""The example workspace at the repository root, end to end (what `make run` does)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def example(pytester):
    for name in ("iterations.json", "metrics.json", "runs.json", "conftest.py"):
        shutil.copy(REPO / name, pytester.path / name)
    for folder in ("iterations", "metrics"):
        shutil.copytree(
            REPO / folder,
            pytester.path / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.log"),
        )
    pytester.makeini("[pytest]\n")
    return pytester


@pytest.mark.slow
def test_run_002_under_xdist_compares_three_iterations_on_every_metric(example):
    result = example.runpytest_subprocess(
        "--iterbench", "run-002", "-n", "2", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=18, skipped=3)
    import json

    records = json.loads((example.path / "results.json").read_text())["results"]
    assert len(records) == 21
    values = {(r["iteration_id"], r["metric_id"]): r for r in records}
    for iteration_id in ("v1-baseline", "v2-mlp", "v2-mlp-lr"):
        assert values[iteration_id, "accuracy"]["value"] > 90
        assert 0.9 < values[iteration_id, "balanced_accuracy"]["value"] <= 1
        assert values[iteration_id, "exec_time"]["value"] > 0
        assert values[iteration_id, "gpu_memory"]["status"] in ("skipped", "passed")
    assert (
        values["v2-mlp", "source_lines"]["value"] > values["v1-baseline", "source_lines"]["value"]
    )
    report = (example.path / "reports" / "comparison_report.md").read_text()
    assert report.count("\n| v") == 3
    assert "balanced_accuracy" in report
