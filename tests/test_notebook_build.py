"""Solvers fill the exercises; the build changes answer regions only."""

from __future__ import annotations

import json

import pytest
from notebook_helpers import STYLES, assignment, snippets, solutions_folder, solutions_json

from pytest_iterbench.notebook.build import build_notebook, exercise_map_from_metadata
from pytest_iterbench.notebook.errors import BuildError, SolutionMissing, SolverNotConfigured
from pytest_iterbench.notebook.parse import find_exercises, locked_cells
from pytest_iterbench.notebook.solvers import FilesSolver, Solution, SolveContext, make_solver


def solve_all(solver, exercises, notebook, alternatives=1):
    context = SolveContext(notebook, alternatives=alternatives)
    return {e.id: solver.solve(e, context) for e in exercises}


def test_files_solver_fills_every_style_from_a_folder(tmp_path):
    made = assignment()
    exercises = find_exercises(made.nb)
    solver = FilesSolver(solutions_folder(tmp_path / "solutions"))
    found = solve_all(solver, exercises, tmp_path / "hw.ipynb")
    for style in STYLES:
        snippet = snippets()[style]
        [solution] = found[snippet.exercise_id]
        assert solution.regions == (snippet.right + "\n",)
        assert solution.origin.endswith(f"{snippet.exercise_id}.py")


def test_files_solver_reads_a_json_file_and_prefers_the_notebooks_own(tmp_path):
    exercises = find_exercises(assignment(("function-stub",)).nb)
    shared = solutions_json(tmp_path / "solutions.json", ("function-stub",))
    assert solve_all(FilesSolver(shared), exercises, tmp_path / "hw.ipynb")["add"][0].regions == (
        "return a + b",
    )
    folder = tmp_path / "solutions"
    folder.mkdir()
    (folder / "add.py").write_text("return 0\n")
    (folder / "hw.json").write_text(json.dumps({"add": "return b + a"}))
    solver = FilesSolver(folder)
    assert solve_all(solver, exercises, tmp_path / "hw.ipynb")["add"][0].regions == (
        "return b + a",
    )
    assert solve_all(solver, exercises, tmp_path / "other.ipynb")["add"][0].regions == (
        "return 0\n",
    )


def test_files_solver_alternatives_from_a_folder_and_json(tmp_path):
    exercises = find_exercises(assignment(("function-stub",)).nb)
    folder = tmp_path / "solutions" / "add"
    folder.mkdir(parents=True)
    (folder / "plain.py").write_text("return a + b\n")
    (folder / "builtin.py").write_text("return sum((a, b))\n")
    found = solve_all(
        FilesSolver(tmp_path / "solutions"), exercises, tmp_path / "hw.ipynb", alternatives=5
    )
    assert [s.alternative for s in found["add"]] == ["builtin", "plain"]
    data = {
        "add": {
            "alternatives": [
                "return a + b",
                {"name": "sum", "code": "return sum((a, b))", "parameters": {"k": 1}},
            ]
        }
    }
    (tmp_path / "s.json").write_text(json.dumps(data))
    found = solve_all(
        FilesSolver(tmp_path / "s.json"), exercises, tmp_path / "hw.ipynb", alternatives=1
    )
    assert [s.alternative for s in found["add"]] == ["alt-1"]  # --alternatives 1 keeps the first
    found = solve_all(
        FilesSolver(tmp_path / "s.json"), exercises, tmp_path / "hw.ipynb", alternatives=2
    )
    assert [(s.alternative, s.parameters) for s in found["add"]] == [
        ("alt-1", {}),
        ("sum", {"k": 1}),
    ]


def test_a_missing_solution_names_the_exercise(tmp_path):
    exercises = find_exercises(assignment(("nbgrader",)).nb)
    (tmp_path / "solutions").mkdir()
    with pytest.raises(SolutionMissing) as caught:
        solve_all(FilesSolver(tmp_path / "solutions"), exercises, tmp_path / "hw.ipynb")
    assert caught.value.exercise_id == "squares"
    assert "squares.py" in str(caught.value)


def test_claude_api_solver_needs_its_own_factory_and_the_files_solver_its_folder(tmp_path):
    with pytest.raises(SolverNotConfigured, match="make_claude_solver"):
        make_solver("claude-api")
    with pytest.raises(SolverNotConfigured, match="does not exist"):
        make_solver("files", solutions=tmp_path / "nowhere")


def test_build_changes_only_answer_regions_and_keeps_metadata(tmp_path):
    made = assignment()
    exercises = find_exercises(made.nb)
    solver = FilesSolver(solutions_folder(tmp_path / "solutions"))
    chosen = {k: v[0] for k, v in solve_all(solver, exercises, tmp_path / "hw.ipynb").items()}
    built = build_notebook(made.nb, exercises, chosen)
    answers = {c for e in exercises for c in e.answer_cells}
    assert built.metadata == made.nb.metadata
    assert built.metadata["kernelspec"]["name"] == "python3"
    for index, (before, after) in enumerate(zip(made.nb.cells, built.cells, strict=True)):
        if index in answers:
            assert after.source != before.source
        else:
            assert after == before, f"cell {index} changed"
    for index in locked_cells(made.nb):
        assert built.cells[index].source == made.nb.cells[index].source
    assert exercise_map_from_metadata(built).locate(made.answer_cell("otter")) == ("q1", "answer")


def test_built_answers_are_indented_into_their_region():
    made = assignment(("nbgrader", "code-here-markers", "write-code-here", "empty-cell"))
    exercises = find_exercises(made.nb)
    chosen = {e.id: Solution(e.id, (snippets()[e.style].right,)) for e in exercises}
    built = build_notebook(made.nb, exercises, chosen)
    assert (
        built.cells[made.answer_cell("nbgrader")].source
        == "def squares(n):\n    return [i * i for i in range(n)]"
    )
    sigmoid = built.cells[made.answer_cell("code-here-markers")].source
    assert (
        "    ### START CODE HERE ### (≈ 1 line of code)\n    s = 1 / (1 + math.exp(-z))\n    ### END CODE HERE ###"
        in sigmoid
    )
    assert (
        built.cells[made.answer_cell("write-code-here")].source
        == "# Write your code here.\nmean = sum(values) / len(values)"
    )
    assert built.cells[made.answer_cell("empty-cell")].source == "answer = 6 * 7"


def test_a_solution_with_the_wrong_number_of_regions_is_refused():
    made = assignment(("function-stub",))
    exercises = find_exercises(made.nb)
    with pytest.raises(BuildError, match="2 answer region") as caught:
        build_notebook(made.nb, exercises, {"add": Solution("add", ("a", "b"))})
    assert caught.value.exercise_id == "add"
