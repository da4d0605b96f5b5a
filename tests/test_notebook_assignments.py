"""Five look-alike course assignments, five markups, through ``iterbench notebook run``.

Each imitates a kind of public assignment: numpy-100's numbered headings with
empty cells, a Coursera graded function with an "Expected Output" table, an
nbgrader notebook with a written answer, bold ``**Q3.**`` questions with stub
cells and asserts, and "Exercise 2.1" with parts ``(a)``/``(b)`` that uses its
neighbours (``%run helper.py``, ``import course_utils``, a data file,
``images/``). Their solutions go to the files solver; the verdicts must be
nbmake's on the same notebooks, run again from ``output/``.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from notebook_helpers import png

from pytest_iterbench.notebook.cli import main
from pytest_iterbench.notebook.nbio import read_notebook
from pytest_iterbench.notebook.parse import find_exercises, unanswered_tasks

PY = {"name": "python3", "display_name": "Python 3", "language": "python"}
md, code = new_markdown_cell, new_code_cell


def _nbgrader(source, grade_id, *, solution=True, points=None, cell=code):
    made = cell(source)
    made.metadata["nbgrader"] = {
        "grade_id": grade_id, "solution": solution, "grade": points is not None,
        "locked": not solution, "points": points, "schema_version": 3,
    }  # fmt: skip
    return made


ASSIGNMENTS = {
    "numpy100": (
        [
            md("# 100 numpy exercises"),
            md("#### 1. Import the numpy package under the name `np` (★☆☆)"),
            code(""),
            md("#### 12. Create a 3x3 identity matrix (★☆☆)"),
            code(""),
            md("**Expected output:**\n```\n[[1. 0. 0.]\n [0. 1. 0.]\n [0. 0. 1.]]\n```"),
            md("#### 53. How to convert a float (32 bits) array into an integer (32 bits)? (★★☆)"),
            code(""),
        ],
        {
            "q1": "import numpy as np",
            "q12": "print(np.eye(3))",
            "q53": "Z = (np.random.rand(10) * 100).astype(np.float32)\nY = Z.astype(np.int32)",
        },
    ),
    "coursera": (
        [
            md("# Logistic regression with a neural network mindset"),
            code("import math"),
            md("**Exercise 1** - sigmoid\n\nImplement the sigmoid of z."),
            code(
                "# GRADED FUNCTION: sigmoid\n\ndef sigmoid(z):\n"
                "    ### START CODE HERE ### (≈ 1 line of code)\n    s = None\n"
                "    ### END CODE HERE ###\n    return s"
            ),
            code("print(sigmoid(0))\nprint(sigmoid(2.2))"),
            md(
                "**Expected Output**:\n\n<table>\n<tr><td>**sigmoid(0)**</td><td> 0.5 </td></tr>\n"
                "<tr><td>**sigmoid(2.2)**</td><td> 0.900249510 </td></tr>\n</table>"
            ),
        ],
        {"sigmoid": "s = 1 / (1 + math.exp(-z))"},
    ),
    "nbgrader": (
        [
            md("# Assignment 1"),
            _nbgrader(
                "def squares(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
                "squares",
            ),
            _nbgrader("assert squares(3) == [0, 1, 4]", "squares-test", solution=False, points=1),
            md("Explain in one sentence why `squares(0)` is empty."),
            _nbgrader("YOUR ANSWER HERE", "why-empty", cell=md),
        ],
        {
            "squares": "return [i * i for i in range(n)]",
            "why-empty": "range(0) yields nothing, so the list is empty.",
        },
    ),
    "boldq": (
        [
            md("# Lab 3"),
            md("**Q1.** Define `total`, the sum of 1 to 10."),
            code("# your code here\n"),
            code("assert total == 55"),
            md("**Q2.** Define `evens`, the even numbers below 10."),
            code("evens = ...\n"),
            code("assert evens == [0, 2, 4, 6, 8]"),
            md("**Q3.** Discuss your results with a classmate (no code)."),
            md("That is all for this lab."),
        ],
        {"q1": "total = sum(range(1, 11))", "q2": "evens = list(range(0, 10, 2))"},
    ),
    "parts": (
        [
            md("# Homework 2\n\n![setup](images/setup.png)"),
            code("%run helper.py\nimport course_utils\nimport csv"),
            md("## Exercise 2.1\nRead `data/values.csv` into `rows`.\n\n(a) Load the rows."),
            code("# YOUR CODE HERE"),
            code("assert len(rows) == 3"),
            md("(b) Add them up with `course_utils.total`."),
            code("# YOUR CODE HERE"),
            code("assert answer == SCALE * 6"),
        ],
        {
            "exercise-2-1a": "rows = list(csv.reader(open('data/values.csv')))",
            "exercise-2-1b": "answer = course_utils.total(int(r[0]) for r in rows) * SCALE",
        },
    ),
}


def _write_workspace(root, wrong=None):
    (root / "input" / "data").mkdir(parents=True)
    (root / "input" / "images").mkdir()
    (root / "input" / "helper.py").write_text("SCALE = 10\n")
    (root / "input" / "course_utils.py").write_text("def total(values):\n    return sum(values)\n")
    (root / "input" / "data" / "values.csv").write_text("1\n2\n3\n")
    (root / "input" / "images" / "setup.png").write_bytes(png(6, 6))
    for name, (cells, answers) in ASSIGNMENTS.items():
        nb = new_notebook(cells=cells, metadata={"kernelspec": dict(PY)})
        nbformat.write(nb, str(root / "input" / f"{name}.ipynb"))
        folder = root / "solutions" / name
        folder.mkdir(parents=True)
        for exercise_id, text in answers.items():
            if wrong and exercise_id in wrong:
                text = wrong[exercise_id]
            suffix = ".md" if exercise_id == "why-empty" else ".py"
            (folder / f"{exercise_id}{suffix}").write_text(text + "\n")


def nbmake(paths, cwd):
    junit = cwd / "nbmake-junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-p", "no:iterbench", f"--junitxml={junit}", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return {
        case.get("name", "").split("::")[-1]: not any(c.tag in ("failure", "error") for c in case)
        for case in ET.parse(junit).iter("testcase")
    }


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    root = tmp_path_factory.mktemp("assignments")
    _write_workspace(root)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code_ = main(["run", str(root / "input"), "--cell-timeout", "60"])
    return root, code_, out.getvalue()


def test_the_markups_give_the_assignments_own_ids(tmp_path):
    _write_workspace(tmp_path)
    ids = {
        name: [e.id for e in find_exercises(read_notebook(tmp_path / "input" / f"{name}.ipynb"))]
        for name in ASSIGNMENTS
    }
    assert ids == {name: list(answers) for name, (_, answers) in ASSIGNMENTS.items()}
    boldq = read_notebook(tmp_path / "input" / "boldq.ipynb")
    assert unanswered_tasks(boldq, find_exercises(boldq)) == [("q3", 7)]


def test_five_assignments_pass_as_nbmake_says_from_output(processed):
    root, code_, printed = processed
    assert code_ == 0, printed
    assert "5 processed, 0 already done, 0 failed" in printed
    completed = sorted((root / "output").glob("*_completed.ipynb"))
    assert len(completed) == 5
    verdicts = nbmake(completed, root / "output")
    assert verdicts == {p.name: True for p in completed}


def test_verdicts_say_what_was_checked(processed):
    _, _, printed = processed
    assert "nbmake: coursera.ipynb passed" in printed
    assert "nbmake: boldq.ipynb passed" in printed
    assert "nbmake: numpy100.ipynb ran, unchecked: no check and no expected output for q1, q53" in (
        printed
    )
    assert "tasks without an answer cell: q3 (cell 7)" in printed


def test_the_neighbours_travel_to_output_and_done(processed):
    root, *_ = processed
    for folder in ("output", "done"):
        assert (root / folder / "helper.py").read_text() == "SCALE = 10\n"
        assert (root / folder / "course_utils.py").is_file()
        assert (root / folder / "data" / "values.csv").is_file()
        assert (root / folder / "images" / "setup.png").is_file()
    assert sorted(p.name for p in (root / "done").glob("*.ipynb")) == sorted(
        f"{name}.ipynb" for name in ASSIGNMENTS
    )


def test_a_wrong_expected_output_fails_as_a_named_check_where_nbmake_passes(tmp_path):
    _write_workspace(tmp_path, wrong={"sigmoid": "s = 1 / (1 + math.exp(z))"})
    for name in ASSIGNMENTS:
        if name != "coursera":
            (tmp_path / "input" / f"{name}.ipynb").unlink()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", str(tmp_path / "input"), "--cell-timeout", "60"]) == 1
    printed = out.getvalue()
    assert "exercise 'sigmoid': expected output not matched (stated in cell 5)" in printed
    [built] = (tmp_path / ".iterbench" / "notebooks").glob("coursera-*/built.ipynb")
    assert nbmake([built], built.parent) == {"built.ipynb": True}  # nbmake cannot see it


def test_a_notebook_without_exercises_needs_no_solver_and_is_archived(tmp_path, capsys):
    (tmp_path / "input").mkdir()
    nb = new_notebook(cells=[md("# Notes"), code("print(2 + 2)")], metadata={"kernelspec": PY})
    nbformat.write(nb, str(tmp_path / "input" / "notes.ipynb"))
    assert main(["run", str(tmp_path / "input")]) == 0
    printed = capsys.readouterr().out
    assert "no exercises: the notebook is run, exported and archived as it is" in printed
    assert "solve     ok" in printed
    assert "nothing to solve" in printed
    assert (tmp_path / "output" / "notes_completed.html").is_file()
    assert (tmp_path / "done" / "notes.ipynb").is_file()
    assert not (tmp_path / "solutions").exists()


def test_exercises_says_why_it_finds_none(tmp_path, capsys):
    nb = new_notebook(cells=[md("# Notes"), md("Some text."), code("x = 1")])
    nbformat.write(nb, str(tmp_path / "notes.ipynb"))
    assert main(["exercises", str(tmp_path / "notes.ipynb")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "notes.ipynb: no exercises found: no cell carries a recognised markup"
    )


def test_every_missing_solution_is_listed_in_one_message(tmp_path, capsys):
    _write_workspace(tmp_path)
    for name in ASSIGNMENTS:
        if name != "numpy100":
            (tmp_path / "input" / f"{name}.ipynb").unlink()
    for path in (tmp_path / "solutions" / "numpy100").iterdir():
        path.unlink()
    assert main(["run", str(tmp_path / "input")]) == 1
    printed = capsys.readouterr().out
    [line] = [line for line in printed.splitlines() if "solve     FAILED" in line]
    assert "for 3 exercises: q1, q12, q53" in line
    assert "<id>.md" in line
    assert "exercise 'q1': exercise 'q1'" not in printed


def test_exercises_json_piped_into_head_ends_quietly(tmp_path):
    cells = [
        md(f"#### {n}. Task {n}") if i % 2 == 0 else code("") for n in range(1, 400) for i in (0, 1)
    ]
    nbformat.write(new_notebook(cells=cells), str(tmp_path / "many.ipynb"))
    done = subprocess.run(
        f"{sys.executable} -m pytest_iterbench.notebook exercises {tmp_path / 'many.ipynb'} --json | head -2",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert done.stdout.splitlines()[0] == "["
    assert done.stderr == ""


def test_a_notebook_without_cell_ids_reads_without_warnings(tmp_path, recwarn):
    raw = (
        '{"cells":[{"cell_type":"markdown","metadata":{},"source":["**Q1.** Say hi."]},'
        '{"cell_type":"code","execution_count":null,"metadata":{},"outputs":[],"source":[]}],'
        '"metadata":{},"nbformat":4,"nbformat_minor":5}'
    )
    (tmp_path / "old.ipynb").write_text(raw)
    [exercise] = find_exercises(read_notebook(tmp_path / "old.ipynb"))
    assert exercise.id == "q1"
    assert not [w for w in recwarn if "MissingIDField" in type(w.message).__name__]
