"""Exceptions of pytest-iterbench: one root, and errors that carry their data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IterbenchError(Exception):
    """Root of every error raised by pytest-iterbench."""


class IterbenchWarning(UserWarning):
    """A problem that is not the user's fault and does not stop the session.

    For example a ``results.json`` that cannot be read at the end of a session:
    the records stay in the session's journal, whose path the message names.
    Filter it like any warning: ``-W error::pytest_iterbench.errors.IterbenchWarning``.
    (Not a ``pytest.PytestWarning``: this module is imported outside pytest too,
    by the ``iterbench`` command, which should not pay for importing pytest.)
    """


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at one place in it.

    ``location`` is a JSON path such as ``runs[0].iteration_ids[1]`` (or
    ``line 3, column 5`` for a syntax error); ``message`` says what was
    expected and what was found.
    """

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.message}"


class WorkspaceError(IterbenchError):
    """The workspace's JSON files are invalid; nothing was run or written.

    >>> err = WorkspaceError([Problem("runs.json", "runs[0].id", "expected a string, found 3")])
    >>> str(err)
    'invalid workspace:\\n  runs.json: runs[0].id: expected a string, found 3'
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid workspace:\n{lines}")


class MetricSkipped(IterbenchError):
    """Raised by a metric that cannot be measured here (for example, no GPU).

    The item is reported as skipped, and its record has status ``skipped``
    with this exception's message as the reason.
    """


class GpuUnavailableError(MetricSkipped, RuntimeError):
    """A GPU-only metric ran where CUDA is absent (a ``RuntimeError``, as in the seed)."""


class ExecutionFailed(IterbenchError):
    """An iteration's entry point raised, exited, died or ran out of time or memory."""

    def __init__(self, iteration_id: str, status: str, reason: str, details: str = "") -> None:
        self.iteration_id = iteration_id
        self.status = status
        self.reason = reason
        self.details = details or f"iteration {iteration_id!r}: {status}: {reason}"
        super().__init__(f"iteration {iteration_id!r}: {status}: {reason}")
