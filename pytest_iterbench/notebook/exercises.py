"""The exercises of an assignment: instruction, answer regions and checks, as plain data.

An ``Exercise`` is what the parser finds and what the solver, the builder and
the validator share. It is saved in the notebook's work folder as
``exercises.json`` (``to_json`` / ``from_json``), so a resumed run reads it back
instead of parsing again.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

MarkupStyle = Literal[
    "nbgrader",
    "solution-markers",
    "your-code-here",
    "otter",
    "code-here-markers",
    "write-code-here",
    "function-stub",
    "empty-cell",
]
MARKUP_STYLES: tuple[MarkupStyle, ...] = get_args(MarkupStyle)
RegionKind = Literal["code", "markdown"]
CheckRole = Literal["check", "grading"]


@dataclass(frozen=True)
class AnswerRegion:
    """Lines ``[start_line, end_line)`` of one cell that a solution replaces.

    ``start_line == end_line`` is an insertion point (an empty answer cell, or
    the line after ``# Write your code here.``). ``indent`` is prefixed to each
    line of the solution, which is written unindented. ``placeholder`` is the
    text the region held in the assignment.
    """

    cell_index: int
    start_line: int
    end_line: int
    indent: str = ""
    kind: RegionKind = "code"
    placeholder: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "cell_index": self.cell_index,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "indent": self.indent,
            "kind": self.kind,
            "placeholder": self.placeholder,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnswerRegion:
        return cls(
            cell_index=int(data["cell_index"]),
            start_line=int(data["start_line"]),
            end_line=int(data["end_line"]),
            indent=str(data.get("indent", "")),
            kind=data.get("kind", "code"),
            placeholder=str(data.get("placeholder", "")),
        )


@dataclass(frozen=True)
class CheckCell:
    """A cell after the answer that checks it: asserts, a test call, a grading cell."""

    cell_index: int
    role: CheckRole = "check"
    points: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"cell_index": self.cell_index, "role": self.role, "points": self.points}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckCell:
        return cls(int(data["cell_index"]), data.get("role", "check"), data.get("points"))


@dataclass(frozen=True)
class ExerciseImage:
    """An image of the instruction: a markdown attachment, a data URI, a local file or an output."""

    name: str
    mime: str
    data: bytes
    cell_index: int
    origin: Literal["attachment", "data-uri", "file", "output"]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mime": self.mime,
            "data": base64.b64encode(self.data).decode("ascii"),
            "cell_index": self.cell_index,
            "origin": self.origin,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExerciseImage:
        return cls(
            name=data["name"],
            mime=data["mime"],
            data=base64.b64decode(data["data"]),
            cell_index=int(data["cell_index"]),
            origin=data["origin"],
        )


@dataclass(frozen=True)
class Exercise:
    """One exercise: its instruction, its answer region(s) and the checks after it.

    >>> ex = Exercise("squares", "nbgrader", "Write squares(n).", (0,), (AnswerRegion(1, 0, 2),))
    >>> ex.answer_cells
    (1,)
    """

    id: str
    style: MarkupStyle
    instruction: str
    instruction_cells: tuple[int, ...]
    regions: tuple[AnswerRegion, ...]
    checks: tuple[CheckCell, ...] = ()
    images: tuple[ExerciseImage, ...] = ()
    answer_source: str = (
        ""  # the first answer cell as the assignment gives it: context for a solver
    )
    points: float | None = None

    @property
    def answer_cells(self) -> tuple[int, ...]:
        """The cells holding the answer regions, in order, without repeats."""
        return tuple(dict.fromkeys(region.cell_index for region in self.regions))

    @property
    def check_cells(self) -> tuple[int, ...]:
        return tuple(check.cell_index for check in self.checks)

    @property
    def last_cell(self) -> int:
        """The exercise's last cell: its last check, else its last answer cell."""
        return max([*self.answer_cells, *self.check_cells])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "style": self.style,
            "instruction": self.instruction,
            "instruction_cells": list(self.instruction_cells),
            "regions": [region.to_json() for region in self.regions],
            "checks": [check.to_json() for check in self.checks],
            "images": [image.to_json() for image in self.images],
            "answer_source": self.answer_source,
            "points": self.points,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exercise:
        return cls(
            id=data["id"],
            style=data["style"],
            instruction=data.get("instruction", ""),
            instruction_cells=tuple(data.get("instruction_cells", ())),
            regions=tuple(AnswerRegion.from_json(r) for r in data["regions"]),
            checks=tuple(CheckCell.from_json(c) for c in data.get("checks", ())),
            images=tuple(ExerciseImage.from_json(i) for i in data.get("images", ())),
            answer_source=data.get("answer_source", ""),
            points=data.get("points"),
        )


@dataclass(frozen=True)
class ExerciseMap:
    """Which exercise each cell belongs to, and as what: for naming failures.

    ``role`` is ``instruction``, ``answer``, ``check`` or ``grading``. A cell
    after an exercise's answer that is not one of its checks still belongs to
    it (a failure there is reported as that exercise's).
    """

    cells: dict[int, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_exercises(cls, exercises: tuple[Exercise, ...] | list[Exercise]) -> ExerciseMap:
        cells: dict[int, tuple[str, str]] = {}
        for exercise in exercises:
            for index in exercise.instruction_cells:
                cells[index] = (exercise.id, "instruction")
            for index in exercise.answer_cells:
                cells[index] = (exercise.id, "answer")
            for check in exercise.checks:
                cells[check.cell_index] = (exercise.id, check.role)
        return cls(cells)

    def locate(self, cell_index: int) -> tuple[str | None, str]:
        """(exercise id or None, role) of a cell; unmapped cells follow the nearest answer above."""
        if cell_index in self.cells:
            return self.cells[cell_index]
        above = [i for i, (_, role) in self.cells.items() if i < cell_index and role == "answer"]
        if above:
            return self.cells[max(above)][0], "after-answer"
        return None, "outside any exercise"
