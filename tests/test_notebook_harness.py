"""Notebook iterations in the harness: parameters injected, outputs read back, beside module iterations."""

from __future__ import annotations

import json

import nbformat
import pytest

PY_MAIN = "def run(parameters):\n    return {'y_true': [0, 1, 1, 0], 'y_pred': [0, 1, 1, 1]}\n"


def write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)


@pytest.fixture
def mixed(workspace):
    workspace.iteration("py", PY_MAIN)
    folder = workspace.root / "iterations" / "nb"
    folder.mkdir(parents=True)
    write_notebook(
        folder / "main.ipynb",
        [
            (
                "threshold = 0.9  # default, overridden by the iteration's parameters",
                ["parameters"],
            ),
            ("scores = [0.1, 0.8, 0.7, 0.2]\ny_pred = [int(s > threshold) for s in scores]", []),
            ("outputs = {'y_true': [0, 1, 1, 0], 'y_pred': y_pred, 'threshold': threshold}", []),
        ],
    )
    workspace.iterations.append(
        {
            "id": "nb",
            "source_path": "iterations/nb",
            "entry_point": "main.ipynb",
            "parameters": {"threshold": 0.5},
            "parent": None,
        }
    )
    workspace.builtin_metrics()
    workspace.performance_metrics()
    workspace.run().write()
    return workspace


@pytest.mark.slow
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_notebook_and_module_iterations_are_compared_in_one_run(mixed, pytester, xdist):
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", "-rs", *xdist)
    result.assert_outcomes(passed=7, skipped=1)
    result.stdout.fnmatch_lines(["*peak memory is not measured for main.ipynb*"])
    records = {(r["iteration_id"], r["metric_id"]): r for r in mixed.results()}
    assert records["nb", "accuracy"]["value"] == 100.0, (
        "threshold 0.5 was injected: the default 0.9 would give 50"
    )
    assert records["py", "accuracy"]["value"] == 75.0
    assert records["nb", "exec_time"]["value"] > 0
    assert records["nb", "peak_memory"]["status"] == "skipped"
    assert records["nb", "accuracy"]["parameters"] == {"threshold": 0.5}
    assert "| nb | **100** |" in mixed.report()


def test_a_failing_notebook_cell_is_an_error_record_naming_the_cell(workspace, pytester):
    folder = workspace.root / "iterations" / "nb"
    folder.mkdir(parents=True)
    write_notebook(
        folder / "main.ipynb",
        [("x = 1", ["parameters"]), ("raise ValueError('no data here')", []), ("outputs = {}", [])],
    )
    workspace.iterations.append(
        {
            "id": "nb",
            "source_path": "iterations/nb",
            "entry_point": "main.ipynb",
            "parameters": {},
            "parent": None,
        }
    )
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%").run().write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider").assert_outcomes(failed=1)
    (record,) = json.loads((workspace.root / "results.json").read_text())["results"]
    assert record["status"] == "error"
    assert "ValueError" in record["reason"]
    assert "no data here" in record["reason"]
