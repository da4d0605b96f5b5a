"""Build the completed notebook: the assignment with only its answer regions replaced.

Every other cell comes out byte-identical (source, metadata, attachments,
outputs), and so do the notebook's metadata and kernelspec. An answer cell
keeps its own metadata plus ``metadata.iterbench.exercise``, which lets a later
validation name the exercise of a failing cell without parsing again.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

from nbformat import NotebookNode

from pytest_iterbench.notebook.errors import BuildError
from pytest_iterbench.notebook.exercises import AnswerRegion, Exercise, ExerciseMap
from pytest_iterbench.notebook.solvers import Solution

METADATA_KEY = "iterbench"


def _indented(text: str, indent: str) -> list[str]:
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    return [indent + line if line.strip() else line for line in lines]


def _replace_region(source: str, region: AnswerRegion, text: str) -> str:
    if region.kind == "markdown" or not source.strip():  # a whole markdown cell, an empty cell
        return text.rstrip("\n")
    lines = source.split("\n")
    lines[region.start_line : region.end_line] = _indented(text, region.indent)
    return "\n".join(lines)


def _check_fits(exercise: Exercise, solution: Solution, notebook: Path | None) -> None:
    if len(solution.regions) != len(exercise.regions):
        raise BuildError(
            f"the solution ({solution.origin or solution.alternative}) has {len(solution.regions)} "
            f"answer region(s), the exercise has {len(exercise.regions)}",
            notebook=notebook,
            exercise_id=exercise.id,
            cell_index=exercise.answer_cells[0],
        )


def build_notebook(
    nb: NotebookNode,
    exercises: list[Exercise],
    solutions: Mapping[str, Solution],
    *,
    notebook: Path | None = None,
) -> NotebookNode:
    """A copy of ``nb`` whose answer regions hold ``solutions`` (keyed by exercise id).

    Regions are replaced from the bottom of each cell up, so the line numbers
    the parser recorded stay valid. Answer cells lose their outputs (they
    answered nothing yet); validation executes the notebook afresh.
    """
    built = copy.deepcopy(nb)
    edits: list[tuple[AnswerRegion, str, str]] = []
    for exercise in exercises:
        if exercise.id not in solutions:
            raise BuildError("no solution chosen", notebook=notebook, exercise_id=exercise.id)
        solution = solutions[exercise.id]
        _check_fits(exercise, solution, notebook)
        edits += [
            (r, text, exercise.id)
            for r, text in zip(exercise.regions, solution.regions, strict=True)
        ]
    for region, text, exercise_id in sorted(
        edits, key=lambda e: (e[0].cell_index, -e[0].start_line)
    ):
        cell = built.cells[region.cell_index]
        cell.source = _replace_region(cell.source, region, text)
        cell.metadata[METADATA_KEY] = {"exercise": exercise_id}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return built


def exercise_map_from_metadata(nb: NotebookNode) -> ExerciseMap:
    """The answer cells a build tagged, each mapped to its exercise (checks follow them)."""
    cells = {
        index: (str(cell.metadata[METADATA_KEY]["exercise"]), "answer")
        for index, cell in enumerate(nb.cells)
        if isinstance(cell.get("metadata", {}).get(METADATA_KEY), dict)
        and "exercise" in cell.metadata[METADATA_KEY]
    }
    return ExerciseMap(cells)
