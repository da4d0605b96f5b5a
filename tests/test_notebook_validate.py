"""Validation through nbmake items on warm kernels: verdicts name the exercise and the check."""

from __future__ import annotations

import nbformat
import pytest
from nbmake.pytest_items import NotebookItem
from notebook_helpers import assignment, snippets, warm_kernel_pool

from pytest_iterbench.notebook.build import build_notebook
from pytest_iterbench.notebook.errors import ValidationFailed
from pytest_iterbench.notebook.exercises import ExerciseMap
from pytest_iterbench.notebook.parse import find_exercises
from pytest_iterbench.notebook.solvers import Solution
from pytest_iterbench.notebook.validate import (
    ExerciseNotebookItem,
    ValidationTarget,
    validate_notebooks,
)

kernel_pool = pytest.fixture(scope="module", name="kernel_pool")(warm_kernel_pool)


def completed(path, *, wrong=(), edit=None, styles=None):
    """Build the all-styles assignment with right (or wrong) solutions and write it at ``path``."""
    made = assignment(styles) if styles else assignment()
    exercises = find_exercises(made.nb)
    chosen = {}
    for exercise in exercises:
        snippet = snippets()[exercise.style]
        chosen[exercise.id] = Solution(
            exercise.id, (snippet.wrong if exercise.style in wrong else snippet.right,)
        )
    built = build_notebook(made.nb, exercises, chosen)
    if edit is not None:
        edit(built, made)
    nbformat.write(built, str(path))
    return ValidationTarget(path, exercises=ExerciseMap.from_exercises(exercises)), made


def check_of(made, style):
    return made.answer_cell(style) + 1


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory, kernel_pool):
    folder = tmp_path_factory.mktemp("validate")

    def syntax_error(nb, made):
        nb.cells[check_of(made, "solution-markers")].source = "assert cube(2) == = 8"

    def endless(nb, made):
        nb.cells[made.answer_cell("empty-cell")].source = "while True:\n    pass"

    def asks(nb, made):
        nb.cells[made.answer_cell("write-code-here")].source = "mean = float(input('mean? '))"

    def widget(nb, made):
        nb.cells[made.answer_cell("function-stub")].source = (
            "from jupyter_ui_poll import ui_events\nwith ui_events() as poll:\n    poll(10)\n"
            "def add(a, b):\n    return a + b"
        )

    cases = {
        "right": {},
        "wrong-otter": {"wrong": ("otter",)},
        "wrong-sigmoid": {"wrong": ("code-here-markers",)},
        "syntax": {"edit": syntax_error},
        "endless": {"edit": endless},
        "input": {"edit": asks},
        "widget": {"edit": widget},
    }
    targets, made = {}, None
    for name, options in cases.items():
        targets[name], made = completed(folder / f"{name}.ipynb", **options)
    report = validate_notebooks(
        list(targets.values()), pool=kernel_pool, cell_timeout=2, jobs=2, quiet=True
    )
    by_name = {v.target.path.stem: v for v in report.verdicts}
    return by_name, made, report


def test_correct_solutions_pass_and_outputs_are_filled(verdicts):
    by_name, _, _ = verdicts
    right = by_name["right"]
    assert right.passed, right.message()
    assert right.executed is not None
    assert any(
        cell.get("outputs") is not None for cell in right.executed.cells if cell.cell_type == "code"
    )


def test_a_wrong_answer_fails_naming_the_exercise_and_the_check(verdicts):
    by_name, made, report = verdicts
    otter = by_name["wrong-otter"]
    assert not otter.passed
    assert (otter.exercise_id, otter.role) == ("q1", "grading")
    assert otter.failure.cell_index == check_of(made, "otter")
    assert otter.message().startswith("exercise 'q1': grading cell failed in cell")
    assert "AssertionError: q1 failed" in otter.message()
    sigmoid = by_name["wrong-sigmoid"]
    assert sigmoid.exercise_id == "sigmoid"
    assert "sigmoid(0) must be 0.5" in sigmoid.message()
    assert "failing line: sigmoid_test(sigmoid)" in sigmoid.message()
    assert not report.passed
    with pytest.raises(ValidationFailed) as caught:
        report.raise_for_failures()
    assert {f.exercise_id for f in caught.value.failures} >= {"q1", "sigmoid"}


def test_a_syntax_error_in_a_check_cell_names_its_exercise(verdicts):
    syntax = verdicts[0]["syntax"]
    assert (syntax.exercise_id, syntax.role, syntax.failure.ename) == (
        "cube",
        "check",
        "SyntaxError",
    )


def test_an_endless_loop_stops_at_the_cell_timeout(verdicts):
    endless = verdicts[0]["endless"]
    assert (endless.failure.kind, endless.exercise_id, endless.role) == (
        "timeout",
        "question-8",
        "answer",
    )
    assert "did not finish in time (cell timeout 2 s)" in endless.message()
    assert endless.seconds < 30


def test_input_fails_fast_with_a_clear_message(verdicts):
    asks = verdicts[0]["input"]
    assert (asks.failure.kind, asks.exercise_id) == ("input", "task-6")
    assert "calls input()" in asks.message()
    assert asks.seconds < 10


def test_a_widget_wait_is_refused_before_running(verdicts):
    widget = verdicts[0]["widget"]
    assert (widget.failure.kind, widget.exercise_id) == ("interactive", "add")
    assert "ui_events" in widget.message()
    assert widget.executed is not None
    assert all(
        not cell.get("outputs") for cell in widget.executed.cells if cell.cell_type == "code"
    )


def test_the_items_are_nbmake_notebook_items():
    assert issubclass(ExerciseNotebookItem, NotebookItem)
    assert ExerciseNotebookItem.nbmake is True


def test_cells_run_in_the_notebooks_folder_and_exercises_come_from_build_metadata(
    tmp_path, kernel_pool
):
    (tmp_path / "data.txt").write_text("42")

    def reads_a_file(nb, made):
        nb.cells[
            made.answer_cell("empty-cell")
        ].source = "answer = int(open('data.txt').read()) + 1"

    target, _ = completed(tmp_path / "nb.ipynb", edit=reads_a_file, styles=("empty-cell",))
    report = validate_notebooks([ValidationTarget(target.path)], pool=kernel_pool, quiet=True)
    [verdict] = report.verdicts
    assert (
        verdict.exercise_id == "question-8"
    )  # from the metadata the build left on the answer cell
    assert "AssertionError" in verdict.message()
    assert report.exit_code == 1
