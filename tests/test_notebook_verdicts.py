"""Verdicts that never lie: each false pass of the past, against ``pytest --nbmake`` on the same notebook.

Every case is a small notebook validated twice: by ``iterbench notebook
validate`` and by ``pytest --nbmake`` in a subprocess. Where nbmake fails the
notebook, so must we; where nbmake cannot see a problem (an expected output
not met, nothing checked at all), our verdict says so and never "passed".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pytest_iterbench.notebook.cli import main

VERDICT_LINE = re.compile(r"^([\w-]+)\.ipynb: (.*)$", re.M)
PY = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _write(path, cells, kernelspec=None, metadata=None):
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": kernelspec or dict(PY), **(metadata or {})}
    )
    nbformat.write(nb, str(path))
    return path


def _raising_cell(source):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["raises-exception"]
    return cell


CASES = {
    # name: (cells, nbmake passes?, our verdict's start)
    "run-script-error": (
        [new_code_cell("%run bad_script.py"), new_code_cell("print('after')")],
        False,
        "outside any exercise: cell failed in cell 0: ValueError: boom in the script",
    ),
    "run-script-error-allowed": (
        [_raising_cell("%run bad_script.py"), new_code_cell("assert x == 1")],
        True,
        "passed",
    ),
    "expected-output-wrong": (
        [
            new_markdown_cell("**Q1.** Compute 2 + 2."),
            new_code_cell("answer = 2 + 3\nprint(answer)"),
            new_markdown_cell("**Expected Output**: 4"),
        ],
        True,
        "outside any exercise: expected output not matched (stated in cell 2): expected 4, found 5",
    ),
    "expected-output-table-right": (
        [
            new_code_cell("import math\nfor z in (0, 2.2):\n    print(1 / (1 + math.exp(-z)))"),
            new_markdown_cell(
                "**Expected Output**:\n\n<table>\n<tr><td>**sigmoid(0)**</td><td>0.5</td></tr>\n"
                "<tr><td>**sigmoid(2.2)**</td><td>0.9002495</td></tr>\n</table>"
            ),
        ],
        True,
        "passed",
    ),
    "nothing-checked": (
        [new_markdown_cell("**Q1.** Print something."), new_code_cell("print('something')")],
        True,
        "ran, unchecked: the notebook holds no check and no expected output",
    ),
    "asserts": (
        [new_code_cell("x = 3"), new_code_cell("assert x == 3")],
        True,
        "passed",
    ),
    # nbmake's expected errors: a tagged cell, or a notebook that allows errors
    "tagged-check-raises": (
        [new_code_cell("x = 3"), _raising_cell("assert x == 4, 'raises on purpose'")],
        True,
        "passed; expected errors in cell 1 (tagged raises-exception)",
    ),
    "unexpected-error-after-a-tagged-one": (
        [_raising_cell("raise KeyError('expected')"), new_code_cell("1 / 0")],
        False,
        "outside any exercise: cell failed in cell 1: ZeroDivisionError",
    ),
    "allow-errors-demo": (
        [new_code_cell("raise ValueError('shown on purpose')"), new_code_cell("assert 1 + 1 == 2")],
        True,
        "passed; expected errors in cell 0 (execution.allow_errors)",
    ),
    "allow-errors-check-fails": (
        [new_code_cell("x = 2"), new_code_cell("assert x == 1, 'wrong answer'")],
        True,  # nbmake passes it: our one stricter verdict
        "outside any exercise: check failed in cell 1: AssertionError: wrong answer",
    ),
    "timeout-metadata": (
        [new_code_cell("import time\ntime.sleep(30)"), new_code_cell("assert True")],
        False,
        "outside any exercise: cell failed in cell 0: did not finish in time",
    ),
    "no-timeout-metadata": (
        [new_code_cell("import time\ntime.sleep(1.5)"), new_code_cell("assert True")],
        True,
        "passed",
    ),
}
#: Notebook metadata of the cases that have some (nbmake's keys).
METADATA = {
    "allow-errors-demo": {"execution": {"allow_errors": True}},
    "allow-errors-check-fails": {"execution": {"allow_errors": True}},
    "timeout-metadata": {"execution": {"timeout": 2}},
    "no-timeout-metadata": {"execution": {"timeout": -1}},  # nbclient: no timeout
}


def nbmake_verdicts(paths, env=None):
    """``pytest --nbmake`` on ``paths``, in a subprocess: name -> passed."""
    folder = paths[0].parent
    junit = folder / "nbmake.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-p", "no:iterbench", f"--junitxml={junit}", *map(str, paths)],
        cwd=folder, capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    verdicts = {}
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("name", "").split("::")[-1]
        verdicts[name.removesuffix(".ipynb")] = not any(
            child.tag in ("failure", "error") for child in case
        )
    return verdicts


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdicts")
    (folder / "bad_script.py").write_text("x = 1\nraise ValueError('boom in the script')\n")
    paths = [
        _write(folder / f"{name}.ipynb", cells, metadata=METADATA.get(name))
        for name, (cells, _, _) in CASES.items()
    ]
    ours = subprocess.run(
        [sys.executable, "-m", "pytest_iterbench.notebook", "validate", *map(str, paths)],
        capture_output=True, text=True, timeout=300, check=False, cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    verdicts = dict(VERDICT_LINE.findall(ours.stdout))
    return verdicts, nbmake_verdicts(paths), ours


@pytest.mark.parametrize("name", list(CASES))
def test_our_verdict_agrees_with_nbmake_and_says_what_it_checked(both, name):
    ours, nbmake, _ = both
    _, nbmake_passes, verdict = CASES[name]
    assert nbmake[name] is nbmake_passes, f"nbmake's verdict on {name} changed"
    assert ours[name].startswith(verdict), ours[name]
    if not nbmake_passes:
        assert not ours[name].startswith(("passed", "ran")), "a false pass"


def test_a_check_that_raises_where_errors_are_allowed_says_why_it_still_fails(both):
    ours, nbmake, _ = both
    assert nbmake["allow-errors-check-fails"] is True
    assert ours["allow-errors-check-fails"].endswith(
        "; the notebook allows errors (metadata.execution.allow_errors), but a check that raises "
        "says the answer is wrong (nbmake passes it; tag the cell raises-exception if it must raise)"
    )


def test_exit_status_fails_where_a_check_failed(both):
    _, _, ours = both
    assert ours.returncode == 1


def test_a_notebook_whose_kernel_is_missing_fails_before_running_naming_it(tmp_path, capsys):
    path = _write(
        tmp_path / "other.ipynb",
        [new_code_cell("open('ran.txt', 'w').write('ran')")],
        kernelspec={"name": "nosuchkernel", "display_name": "Nope", "language": "python"},
    )
    assert nbmake_verdicts([path]) == {"other": False}
    (tmp_path / "ran.txt").unlink(missing_ok=True)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "kernel 'nosuchkernel' (asked by other.ipynb) is not installed" in err
    assert "installed kernels: " in err
    assert "python3" in err.split("installed kernels: ")[1]
    assert not (tmp_path / "ran.txt").exists()


def test_kernel_option_naming_a_missing_kernel_fails_with_exit_2(tmp_path, capsys):
    path = _write(tmp_path / "plain.ipynb", [new_code_cell("print(1)")])
    assert main(["validate", str(path), "--kernel", "nosuchkernel"]) == 2
    err = capsys.readouterr().err
    assert "kernel 'nosuchkernel' (asked by --kernel) is not installed" in err


def test_the_notebooks_own_installed_kernel_is_used_without_kernel_option(tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "ib-marked"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "marked",
                "language": "python",
                "env": {"IB_MARKED_KERNEL": "yes"},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    check = "import os\nassert os.environ.get('IB_MARKED_KERNEL') == 'yes', 'not the marked kernel'"
    marked = {"name": "ib-marked", "display_name": "marked", "language": "python"}
    own = _write(tmp_path / "own.ipynb", [new_code_cell(check)], kernelspec=marked)
    plain = _write(tmp_path / "plain.ipynb", [new_code_cell(check)])
    assert nbmake_verdicts([own, plain], env=dict(os.environ)) == {"own": True, "plain": False}
    assert main(["validate", str(own)]) == 0
    assert main(["validate", str(plain)]) == 1
