"""Errors of the notebook processor: each carries the notebook, the cell and the exercise.

Every class subclasses ``IterbenchError``; the data is on attributes as well as
in the message, so callers (the CLI, the pipeline's state) can record where a
notebook failed without parsing text.

>>> err = NotebookProcessorError("boom", notebook="hw1.ipynb", cell_index=3, exercise_id="q1")
>>> str(err)
"hw1.ipynb: cell 3: exercise 'q1': boom"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_iterbench.errors import IterbenchError


class NotebookProcessorError(IterbenchError):
    """Root of the notebook processor's errors, with where it happened."""

    def __init__(
        self,
        message: str,
        *,
        notebook: str | Path | None = None,
        cell_index: int | None = None,
        exercise_id: str | None = None,
    ) -> None:
        self.message = message
        self.notebook = str(notebook) if notebook is not None else None
        self.cell_index = cell_index
        self.exercise_id = exercise_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        """``notebook: cell N: exercise 'x': message``, never saying a place the message says."""
        where = [self.notebook] if self.notebook else []
        if self.cell_index is not None:
            where.append(f"cell {self.cell_index}")
        if self.exercise_id is not None:
            where.append(f"exercise {self.exercise_id!r}")
        where = [part for part in where if part not in self.message]
        return ": ".join([*where, self.message])

    def to_json(self) -> dict[str, Any]:
        """The error as plain data, for ``state.json``."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "notebook": self.notebook,
            "cell_index": self.cell_index,
            "exercise_id": self.exercise_id,
        }


class NotebookReadError(NotebookProcessorError):
    """The file is not a readable notebook (not JSON, not nbformat 4)."""


class KernelMissing(NotebookProcessorError):
    """A notebook's kernelspec (or ``--kernel``) names a kernel that is not installed."""


class SolverError(NotebookProcessorError):
    """A solver could not produce a solution."""


class SolverNotConfigured(SolverError):
    """The chosen solver cannot run here (not installed, no credentials, not built yet)."""


class SolutionMissing(SolverError):
    """The files solver has no solution for an exercise."""


class BuildError(NotebookProcessorError):
    """A solution does not fit its exercise (wrong number of answer regions)."""


class CellExecutionFailed(NotebookProcessorError):
    """A cell raised, timed out, asked for input, or killed its kernel.

    ``kind`` is ``error``, ``timeout``, ``input``, ``interactive`` or
    ``kernel-died``; ``ename``/``evalue`` are the exception's name and value.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        notebook: str | Path | None = None,
        cell_index: int | None = None,
        exercise_id: str | None = None,
        ename: str = "",
        evalue: str = "",
        traceback: str = "",
    ) -> None:
        self.kind = kind
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        super().__init__(message, notebook=notebook, cell_index=cell_index, exercise_id=exercise_id)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "kind": self.kind, "ename": self.ename, "evalue": self.evalue}


class ValidationFailed(NotebookProcessorError):
    """The completed notebook did not pass its checks; ``failures`` says which."""

    def __init__(
        self, message: str, *, notebook: str | Path, failures: list[CellExecutionFailed]
    ) -> None:
        self.failures = list(failures)
        first = self.failures[0] if self.failures else None
        super().__init__(
            message,
            notebook=notebook,
            cell_index=first.cell_index if first else None,
            exercise_id=first.exercise_id if first else None,
        )


class NotebookOutputsMissing(NotebookProcessorError):
    """A notebook iteration ended without a dict named ``outputs``."""


class AlternativesError(NotebookProcessorError):
    """Benchmarking an exercise's alternatives through the harness failed."""


class ArchiveError(NotebookProcessorError):
    """The input could not be archived (it changed since it was read, or vanished)."""


class StateError(NotebookProcessorError):
    """``state.json`` is unreadable or not what the processor wrote."""
