"""Solvers: what fills an exercise's answer regions.

A solver is anything with a ``name`` and a ``solve(exercise, context)`` method
returning one ``Solution`` per alternative (``context.alternatives`` at most).
Two ship here:

- ``FilesSolver``: solutions written by a person, in a folder or a JSON file
  keyed by exercise id. It is the human path, and what the tests use.
- ``ClaudeApiSolver`` (``claude_solver.py``): the Claude API through the LLM
  layer; it is also a ``RevisingSolver``, which the reviewer loop drives.

The files solver's layouts, for an exercise ``squares``::

    solutions/squares.py               one solution, one answer region
    solutions/squares.r1.py, .r2.py    one solution, one file per answer region
    solutions/squares/fast.py, loop.py alternatives "fast" and "loop" (each may be split in .rN.py)
    solutions.json                     {"squares": "return n * n"}
                                       {"squares": ["region 1", "region 2"]}
                                       {"squares": {"alternatives": ["return n * n", {"name": "loop", "code": "..."}]}}

A folder or JSON file named after the notebook (``solutions/hw1/`` or
``solutions/hw1.json`` for ``hw1.ipynb``) is used first when it exists, so two
notebooks may both have an exercise ``q1``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.notebook.defaults import SOLVER_NAMES
from pytest_iterbench.notebook.errors import SolutionMissing, SolverError, SolverNotConfigured
from pytest_iterbench.notebook.exercises import Exercise

_EXTENSIONS = (".py", ".md", ".txt")


@dataclass(frozen=True)
class Solution:
    """The text of each answer region of one exercise, unindented, for one alternative."""

    exercise_id: str
    regions: tuple[str, ...]
    alternative: str = "default"
    origin: str = ""  # where it came from: a file, a model
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise_id": self.exercise_id,
            "regions": list(self.regions),
            "alternative": self.alternative,
            "origin": self.origin,
            "parameters": self.parameters,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Solution:
        return cls(
            exercise_id=data["exercise_id"],
            regions=tuple(data["regions"]),
            alternative=data.get("alternative", "default"),
            origin=data.get("origin", ""),
            parameters=dict(data.get("parameters") or {}),
        )


@dataclass(frozen=True)
class SolveContext:
    """What a solver may use besides the exercise: the notebook, its images, how many answers."""

    notebook: Path
    images_dir: Path | None = None
    alternatives: int = 1


class Solver(Protocol):
    """Produces solutions of an exercise: one, or up to ``context.alternatives`` different ones.

    >>> solver = FilesSolver(Path("solutions"))  # doctest: +SKIP
    >>> [s.alternative for s in solver.solve(exercise, SolveContext(Path("hw1.ipynb")))]  # doctest: +SKIP
    ['default']
    """

    name: str

    def solve(self, exercise: Exercise, context: SolveContext) -> list[Solution]: ...


def _as_regions(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, dict) and ("code" in value or "regions" in value):
        return _as_regions(value.get("regions", value.get("code")), where)
    raise SolverError(
        f"{where}: expected a string, a list of strings (one per answer region) or "
        f"an object with 'code' or 'regions', found {type(value).__name__}"
    )


def _json_solutions(exercise_id: str, value: Any, origin: str) -> list[Solution]:
    entries = (
        value["alternatives"] if isinstance(value, dict) and "alternatives" in value else [value]
    )
    solutions: list[Solution] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{origin}: {exercise_id}" + (
            f": alternatives[{number - 1}]" if len(entries) > 1 else ""
        )
        default = "default" if len(entries) == 1 else f"alt-{number}"
        name = entry.get("name", default) if isinstance(entry, dict) else default
        parameters = entry.get("parameters", {}) if isinstance(entry, dict) else {}
        solutions.append(
            Solution(exercise_id, _as_regions(entry, where), str(name), origin, parameters)
        )
    return solutions


def _file_regions(folder: Path, stem: str) -> tuple[tuple[str, ...], str] | None:
    """The regions of ``stem.py`` (or ``stem.r1.py``, ``stem.r2.py``...), and the first file."""
    for ext in _EXTENSIONS:
        single = folder / f"{stem}{ext}"
        if single.is_file():
            return (single.read_text(encoding="utf-8"),), str(single)
        parts: list[Path] = []
        while (folder / f"{stem}.r{len(parts) + 1}{ext}").is_file():
            parts.append(folder / f"{stem}.r{len(parts) + 1}{ext}")
        if parts:
            return tuple(p.read_text(encoding="utf-8") for p in parts), str(parts[0])
    return None


def _alternative_stems(folder: Path) -> list[str]:
    stems: dict[str, None] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in _EXTENSIONS:
            stem = path.stem
            stems[stem.rsplit(".r", 1)[0] if stem.rsplit(".r", 1)[-1].isdigit() else stem] = None
    return list(stems)


class FilesSolver:
    """Solutions from a folder or a JSON file keyed by exercise id (see the module's layouts)."""

    name = "files"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise SolverNotConfigured(
                f"the files solver needs solutions: {self.root} does not exist "
                "(a folder of <exercise-id>.py files, or a JSON file keyed by exercise id)"
            )

    def source_for(self, notebook: Path) -> Path:
        """The folder or JSON file used for ``notebook``: its own one if there is one."""
        if self.root.is_dir():
            for own in (self.root / f"{notebook.stem}.json", self.root / notebook.stem):
                if own.exists():
                    return own
        return self.root

    def solve(self, exercise: Exercise, context: SolveContext) -> list[Solution]:
        source = self.source_for(context.notebook)
        solutions = (
            self._from_json(exercise, source)
            if source.is_file()
            else self._from_folder(exercise, source)
        )
        if not solutions:
            raise SolutionMissing(
                f"no solution in {source} (looked for {exercise.id}.py, .md or .txt, "
                f"{exercise.id}.r1.py, {exercise.id}/ or a JSON key {exercise.id!r})",
                notebook=context.notebook,
                exercise_id=exercise.id,
                cell_index=exercise.answer_cells[0],
            )
        return solutions[: max(1, context.alternatives)]

    def _from_json(self, exercise: Exercise, source: Path) -> list[Solution]:
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SolverError(f"{source}: cannot read the solutions: {exc}") from exc
        if not isinstance(data, dict):
            raise SolverError(
                f"{source}: expected an object keyed by exercise id, found {type(data).__name__}"
            )
        if exercise.id not in data:
            return []
        return _json_solutions(exercise.id, data[exercise.id], str(source))

    def _from_folder(self, exercise: Exercise, folder: Path) -> list[Solution]:
        found = _file_regions(folder, exercise.id)
        if found is not None:
            return [Solution(exercise.id, found[0], "default", found[1])]
        alternatives = folder / exercise.id
        if not alternatives.is_dir():
            return []
        solutions: list[Solution] = []
        for stem in _alternative_stems(alternatives):
            regions = _file_regions(alternatives, stem)
            if regions is not None:
                solutions.append(Solution(exercise.id, regions[0], stem, regions[1]))
        return solutions


@runtime_checkable
class RevisingSolver(Protocol):
    """A solver the reviewer loop can drive: it reviews a failure and revises its answer.

    ``ClaudeApiSolver`` (``notebook/claude_solver.py``) is one; a local model can be another.
    """

    name: str
    max_attempts: int

    def solve(self, exercise: Exercise, context: SolveContext) -> list[Solution]: ...

    def review(self, failure: Failure, exercise_id: str, attempt: int) -> Review: ...

    def revise(
        self,
        exercise: Exercise,
        context: SolveContext,
        failure: Failure,
        review: Review | None,
        attempt: int,
    ) -> Solution: ...


def make_solver(name: str, *, solutions: Path | None = None) -> Solver:
    """The solver called ``name``; ``SolverNotConfigured`` when it cannot run here."""
    if name == "files":
        if solutions is None:
            raise SolverNotConfigured("the files solver needs --solutions DIR_OR_JSON")
        return FilesSolver(solutions)
    if name == "claude-api":  # built by the pipeline (notebook/claude_solver.py), which needs a key
        raise SolverNotConfigured("the claude-api solver is made by make_claude_solver(root, ...)")
    raise SolverNotConfigured(f"unknown solver {name!r}; known: {', '.join(SOLVER_NAMES)}")
