"""A notebook as an iteration: parameters injected papermill-style, ``outputs`` read back."""

from __future__ import annotations

import json
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pytest_iterbench.notebook.errors import CellExecutionFailed, NotebookOutputsMissing
from pytest_iterbench.notebook.notebook_iteration import (
    INJECTED_TAG,
    inject_parameters,
    parameters_source,
    run_notebook_iteration,
)


def iteration_notebook(path, *body, parameters="C = 1.0\nname = 'default'", tagged=True):
    cells = [new_markdown_cell("# A notebook iteration")]
    cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]} if tagged else {}))
    cells += [new_code_cell(textwrap.dedent(source)) for source in body]
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


RETURNS_OUTPUTS = """
import os
y_true = [0, 1, 1, 0]
y_pred = [0, 1, 0, 0] if C < 1 else [0, 1, 1, 0]
outputs = {"y_true": y_true, "y_pred": y_pred, "C": C, "name": name, "cwd": os.getcwd()}
"""


def test_parameters_go_after_the_parameters_cell_or_on_top():
    nb = new_notebook(
        cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell("y = x")]
    )
    injected = inject_parameters(nb, {"x": 2, "label": "a"})
    assert [c.source for c in injected.cells] == [
        "x = 1",
        "# Parameters\nx = 2\nlabel = 'a'\n",
        "y = x",
    ]
    assert injected.cells[1].metadata["tags"] == [INJECTED_TAG]
    again = inject_parameters(injected, {"x": 3})  # an earlier injection is replaced, not stacked
    assert [c.source for c in again.cells].count("# Parameters\nx = 3\n") == 1
    assert len(again.cells) == 3
    untagged = inject_parameters(new_notebook(cells=[new_code_cell("y = 1")]), {"x": 1})
    assert untagged.cells[0].metadata["tags"] == [INJECTED_TAG]
    assert nb.cells[1].source == "y = x"  # the input notebook is untouched


def test_json_values_become_python_literals():
    source = parameters_source(
        {"flag": True, "none": None, "items": [1, "a"], "nested": {"k": 0.5}}
    )
    namespace: dict = {}
    exec(source, namespace)
    assert (namespace["flag"], namespace["none"], namespace["items"], namespace["nested"]) == (
        True,
        None,
        [1, "a"],
        {"k": 0.5},
    )


def test_outputs_come_back_with_parameters_applied_in_cwd(tmp_path):
    path = iteration_notebook(tmp_path / "main.ipynb", RETURNS_OUTPUTS)
    work = tmp_path / "work"
    work.mkdir()
    outputs = run_notebook_iteration(path, {"C": 0.5}, timeout=60, cwd=work)
    assert outputs == {
        "y_true": [0, 1, 1, 0],
        "y_pred": [0, 1, 0, 0],
        "C": 0.5,
        "name": "default",
        "cwd": str(work.resolve()),
    }
    assert (
        nbformat.read(str(path), as_version=4).cells[1].source.startswith("C = 1.0")
    )  # file untouched


def test_a_notebook_without_outputs_names_the_notebook(tmp_path):
    path = iteration_notebook(tmp_path / "silent.ipynb", "result = C * 2")
    with pytest.raises(NotebookOutputsMissing, match="no variable named 'outputs'") as caught:
        run_notebook_iteration(path, {}, timeout=60, cwd=tmp_path)
    assert caught.value.notebook == str(path)
    assert str(path) in str(caught.value)


def test_a_failing_cell_names_the_notebook_and_its_own_cell_number(tmp_path):
    path = iteration_notebook(
        tmp_path / "fails.ipynb", "x = 1", "raise ValueError('bad C')", RETURNS_OUTPUTS
    )
    with pytest.raises(CellExecutionFailed) as caught:
        run_notebook_iteration(path, {"C": 2}, timeout=60, cwd=tmp_path)
    assert (caught.value.cell_index, caught.value.ename, caught.value.kind) == (
        3,
        "ValueError",
        "error",
    )
    assert "ValueError: bad C" in str(caught.value)


def test_the_timeout_bounds_the_whole_notebook(tmp_path):
    path = iteration_notebook(
        tmp_path / "slow.ipynb", "import time\ntime.sleep(0.6)", "time.sleep(0.6)", RETURNS_OUTPUTS
    )
    with pytest.raises(CellExecutionFailed) as caught:
        run_notebook_iteration(path, {}, timeout=1, cwd=tmp_path)
    assert caught.value.kind == "timeout"


XDIST_TEST = """
import json
from pathlib import Path

import pytest

from pytest_iterbench.notebook.notebook_iteration import run_notebook_iteration


@pytest.mark.parametrize("c", [0.5, 2.0])
def test_iteration(c, tmp_path):
    outputs = run_notebook_iteration(Path("main.ipynb").resolve(), {"C": c, "name": f"c{c}"}, timeout=60, cwd=tmp_path)
    Path(f"out-{c}.json").write_text(json.dumps(outputs))
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_notebook_iterations_in_a_pytest_session(pytester, workers):
    iteration_notebook(pytester.path / "main.ipynb", RETURNS_OUTPUTS)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_iterations=XDIST_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=2)
    for c in (0.5, 2.0):
        outputs = json.loads((pytester.path / f"out-{c}.json").read_text())
        assert (outputs["C"], outputs["name"]) == (c, f"c{c}")
        assert outputs["y_pred"] == ([0, 1, 0, 0] if c < 1 else [0, 1, 1, 0])
