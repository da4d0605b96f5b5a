"""The seed's Python interface: load_iterations, load_metrics, execute_run, generate_report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_iterbench import (
    Iteration,
    IterbenchError,
    ResultRecord,
    WorkspaceError,
    execute_run,
    generate_report,
    load_iterations,
    load_metrics,
    load_runs,
)
from pytest_iterbench.metrics.builtin import AccuracyMetric, TimingMetric

REPO = Path(__file__).resolve().parents[1]


def test_loaders_read_the_example_workspace():
    iterations = load_iterations(REPO / "iterations.json")
    assert [it.id for it in iterations] == ["v1-baseline", "v2-mlp", "v2-mlp-lr"]
    assert iterations[2].parent == "v2-mlp"
    assert iterations[2].parameters["learning_rate"] == 0.01
    assert isinstance(iterations[0], Iteration)
    metrics = {m.id: m for m in load_metrics(REPO / "metrics.json")}
    assert metrics["accuracy"].class_path == "pytest_iterbench.metrics.AccuracyMetric"
    assert metrics["exec_time"].higher_is_better is False
    assert metrics["balanced_accuracy"].class_path is None
    runs = {r.id: r for r in load_runs(REPO / "runs.json")}
    assert runs["run-001"].metric_ids == ("accuracy", "f1_macro")


def test_loader_errors_name_the_file_and_place(tmp_path):
    path = tmp_path / "iterations.json"
    path.write_text('{"iterations": [{"id": 7, "source_path": "x", "entry_point": "main.py"}]}')
    with pytest.raises(WorkspaceError) as excinfo:
        load_iterations(path)
    assert (
        str(excinfo.value.problems[0])
        == "iterations.json: iterations[0].id: 7 is not of type 'string' (found 7)"
    )


def test_execute_run_and_generate_report(workspace):
    workspace.iteration("v1").iteration(
        "v2", "def run(p):\n    return {'y_true': [1, 0], 'y_pred': [1, 0]}\n"
    ).builtin_metrics().run().write()
    records = execute_run("run-001", workspace=workspace.root)
    assert all(isinstance(r, ResultRecord) for r in records)
    assert {(r.iteration_id, r.metric_id): r.value for r in records} == {
        ("v1", "accuracy"): pytest.approx(75.0),
        ("v1", "f1_macro"): pytest.approx(0.7333, abs=1e-4),
        ("v2", "accuracy"): 100.0,
        ("v2", "f1_macro"): 1.0,
    }
    assert [r["record_id"] for r in workspace.results()] == [r.record_id for r in records]
    report = generate_report(records)
    assert report.startswith("# Comparison report: run-001\n")
    assert "| v2 | **100** | **1** |" in report


def test_execute_run_raises_on_an_invalid_workspace(tmp_path):
    with pytest.raises(IterbenchError, match="USAGE_ERROR"):
        execute_run("run-001", workspace=tmp_path)


def test_builtin_metrics_work_through_the_seed_signature(tmp_path):
    source = REPO / "iterations" / "v1_baseline"
    shutil.copytree(source, tmp_path / "v1", ignore=shutil.ignore_patterns("__pycache__"))
    result = AccuracyMetric().measure(str(tmp_path / "v1"), "main.py", {"C": 1.0})
    assert result.metric_id == "accuracy"
    assert 90 < result.value <= 100
    assert result.unit == "%"
    assert result.metadata == {"n_samples": 450}
    timing = TimingMetric(max_time=0.05, min_rounds=2).measure(str(tmp_path / "v1"), "main.py", {})
    assert timing.value == timing.metadata["median"] > 0
    assert timing.metadata["rounds"] >= 2


def test_generate_report_needs_results():
    with pytest.raises(IterbenchError, match="no results"):
        generate_report([])
