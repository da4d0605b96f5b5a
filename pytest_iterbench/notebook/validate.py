"""Validate completed notebooks as nbmake pytest items, on warm kernels.

``validate_notebooks`` runs one pytest session whose items are nbmake's
``NotebookItem`` (one per notebook, as ``pytest --nbmake`` makes them). Two
things differ from plain nbmake, both for speed and for the user:

- kernels come from a ``KernelPool``: started ahead, killed right after their
  notebook, never shut down gracefully; once collection is over every
  notebook is queued, ``jobs`` at a time, and each item waits for its own;
- a failure names the exercise and the failing check
  (``exercise 'squares': check failed in cell 4: AssertionError: ...``), and a
  cell calling ``input()``, waiting on a widget or running past the cell
  timeout fails fast with a message saying so.

nbmake's expected errors are honoured the way nbmake reads them: a cell
tagged ``raises-exception`` may raise; ``metadata.execution.allow_errors``
lets every cell raise; ``metadata.execution.timeout`` replaces the cell
timeout (none when null, zero or negative, as nbclient reads it). An
expected error is no failure; the verdict names it. One difference, so that
a verdict never says ``passed`` over a wrong answer: a check cell (asserts, a
test call, a grading cell) that raises, untagged, fails its exercise even
when the notebook allows errors, where nbmake passes the notebook.

>>> report = validate_notebooks([ValidationTarget(Path("hw1.ipynb"))])  # doctest: +SKIP
>>> report.passed, report.verdicts[0].message()  # doctest: +SKIP
(False, "exercise 'squares': check failed in cell 4: AssertionError")
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from nbformat import NotebookNode
from nbmake.pytest_items import NbMakeFailureRepr, NotebookItem  # type: ignore[import-untyped]

from pytest_iterbench.notebook.build import exercise_map_from_metadata
from pytest_iterbench.notebook.defaults import DEFAULT_CELL_TIMEOUT
from pytest_iterbench.notebook.errors import (
    CellExecutionFailed,
    NotebookProcessorError,
    ValidationFailed,
)
from pytest_iterbench.notebook.exercises import ExerciseMap
from pytest_iterbench.notebook.expected import ExpectedOutcome, expected_output_checks
from pytest_iterbench.notebook.kernels import KernelPool, check_kernels, notebook_kernel
from pytest_iterbench.notebook.nbio import read_notebook
from pytest_iterbench.notebook.parse import check_role
from pytest_iterbench.notebook.runner import CellFailure, error_outputs, execute_notebook

_ROLE_WORDS = {
    "check": "check failed",
    "grading": "grading cell failed",
    "answer": "answer failed",
    "instruction": "instruction cell failed",
    "after-answer": "cell after the answer failed",
    "expected-output": "expected output not matched",
}
VerdictStatus = Literal["passed", "failed", "ran, unchecked"]


@dataclass(frozen=True)
class ValidationTarget:
    """A notebook to validate: the file, the folder it runs in, and its exercises.

    ``exercises`` defaults to the answer cells a build tagged in the notebook.
    """

    path: Path
    cwd: Path | None = None
    name: str = ""
    exercises: ExerciseMap | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.path.name

    @property
    def folder(self) -> Path:
        return (self.cwd or self.path.parent).resolve()


@dataclass
class NotebookVerdict:
    """One notebook's outcome: passed, or the failure with its exercise."""

    target: ValidationTarget
    failure: CellFailure | None
    exercise_id: str | None
    role: str
    seconds: float
    executed: NotebookNode | None = None
    unchecked: tuple[str, ...] = ()  # exercises with no check and no expected output
    checked_anything: bool = True
    expected_errors: tuple[tuple[int, str], ...] = ()  # (cell, why it may raise)
    note: str = ""  # said after the failure

    @property
    def passed(self) -> bool:
        """No cell failed and every stated expectation was met (checked or not)."""
        return self.failure is None

    @property
    def status(self) -> VerdictStatus:
        """``passed`` only when something checked the answers; ``ran, unchecked`` otherwise."""
        if self.failure is not None:
            return "failed"
        if self.unchecked or not self.checked_anything:
            return "ran, unchecked"
        return "passed"

    def message(self) -> str:
        """One line naming the exercise, the failing check and what happened."""
        if self.failure is None:
            return self._success() + self._expected_text()
        failure = self.failure
        if failure.kind == "expected-output":
            who = f"exercise {self.exercise_id!r}" if self.exercise_id else "outside any exercise"
            return f"{who}: {failure.evalue}"
        who = f"exercise {self.exercise_id!r}" if self.exercise_id else "outside any exercise"
        what = _ROLE_WORDS.get(self.role, "cell failed")
        line = failure.failing_line()
        where = f"{who}: {what} in cell {failure.cell_index}: {failure.summary()}"
        where = f"{where}; failing line: {line}" if line else where
        return f"{where}; {self.note}" if self.note else where

    def _success(self) -> str:
        if self.status == "passed":
            return "passed"
        if self.unchecked:
            return "ran, unchecked: no check and no expected output for " + ", ".join(
                self.unchecked
            )
        return "ran, unchecked: the notebook holds no check and no expected output"

    def _expected_text(self) -> str:
        if not self.expected_errors:
            return ""
        cells = ", ".join(f"cell {index} ({why})" for index, why in self.expected_errors)
        return f"; expected errors in {cells}"

    def to_error(self) -> CellExecutionFailed:
        assert self.failure is not None
        return CellExecutionFailed(
            self.message(),
            kind=self.failure.kind,
            notebook=self.target.display_name,
            cell_index=self.failure.cell_index,
            exercise_id=self.exercise_id,
            ename=self.failure.ename,
            evalue=self.failure.evalue,
            traceback=self.failure.traceback,
        )


@dataclass
class ValidationReport:
    """Every notebook's verdict, and the pytest session's exit code."""

    verdicts: list[NotebookVerdict] = field(default_factory=list)
    exit_code: int = 0

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and all(v.passed for v in self.verdicts)

    def raise_for_failures(self) -> None:
        """``ValidationFailed`` naming every failing notebook's exercise."""
        failed = [v for v in self.verdicts if not v.passed]
        if failed:
            raise ValidationFailed(
                "; ".join(v.message() for v in failed),
                notebook=", ".join(v.target.display_name for v in failed),
                failures=[v.to_error() for v in failed],
            )


class NotebookCheckFailed(NotebookProcessorError):
    """Raised by an item whose notebook failed; carries the verdict for the report."""

    def __init__(self, verdict: NotebookVerdict) -> None:
        failure = verdict.failure
        super().__init__(
            verdict.message(),
            notebook=verdict.target.display_name,
            cell_index=failure.cell_index if failure else None,
            exercise_id=verdict.exercise_id,
        )
        self.verdict = verdict


class ExerciseNotebookItem(NotebookItem):  # type: ignore[misc]  # nbmake ships no types
    """nbmake's notebook item, run on a pooled kernel and reported by exercise."""

    def runtest(self) -> None:
        plugin: NotebookValidation = self.parent.plugin
        verdict = plugin.verdict(Path(self.filename))
        if not verdict.passed:
            raise NotebookCheckFailed(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, NotebookCheckFailed):
            verdict = excinfo.value.verdict
            assert verdict.failure is not None
            detail = f"{verdict.message()}\n{verdict.failure.traceback}".rstrip()
            return NbMakeFailureRepr(detail, verdict.message())
        return super().repr_failure(excinfo, style)


class _NotebookFile(pytest.File):
    plugin: NotebookValidation

    def collect(self) -> Iterator[pytest.Item]:
        yield ExerciseNotebookItem.from_parent(self, filename=str(self.path))


class NotebookValidation:
    """The pytest plugin of one validation session: collects the targets, queues their runs."""

    def __init__(
        self,
        targets: Sequence[ValidationTarget],
        pool: KernelPool,
        cell_timeout: float | None,
        jobs: int,
        kernel_name: str | None = None,
    ) -> None:
        self.targets = {t.path.resolve(): t for t in targets}
        self.kernel_name = kernel_name
        self.pool = pool
        self.cell_timeout = cell_timeout
        self.jobs = max(1, jobs)
        self.verdicts: dict[Path, NotebookVerdict] = {}
        self._futures: dict[Path, concurrent.futures.Future[NotebookVerdict]] = {}

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        if file_path.resolve() not in self.targets:
            return None
        collector = _NotebookFile.from_parent(parent, path=file_path)
        collector.plugin = self
        return collector

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.pool.warm()
        semaphore = asyncio.Semaphore(self.jobs)
        for item in session.items:
            if isinstance(item, ExerciseNotebookItem):
                path = Path(item.filename).resolve()
                self._futures[path] = self.pool.loop_thread.submit(self._validate(path, semaphore))

    def verdict(self, path: Path) -> NotebookVerdict:
        """The verdict of one notebook, waiting for its run if need be."""
        path = path.resolve()
        if path not in self._futures:  # collected some other way: run it now
            self._futures[path] = self.pool.loop_thread.submit(
                self._validate(path, asyncio.Semaphore(1))
            )
        verdict = self._futures[path].result()
        self.verdicts[path] = verdict
        return verdict

    def pytest_sessionfinish(self) -> None:
        """Runs a stopped session never asked for are cancelled (their kernels are killed)."""
        pending = [future for future in self._futures.values() if not future.done()]
        for future in pending:
            future.cancel()
        concurrent.futures.wait(pending, timeout=30)

    async def _validate(self, path: Path, semaphore: asyncio.Semaphore) -> NotebookVerdict:
        target = self.targets[path]
        nb = read_notebook(path)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        exercises = target.exercises or exercise_map_from_metadata(nb)
        try:
            timeout, allow_errors = execution_metadata(nb, self.cell_timeout)
        except ValueError as exc:
            failure = CellFailure(0, "error", "InvalidMetadata", str(exc), "", "")
            return NotebookVerdict(target, failure, None, "", 0.0, nb)
        async with semaphore:
            run = await execute_notebook(
                nb,
                self.pool,
                cwd=target.folder,
                cell_timeout=timeout,
                allow_errors=allow_errors,
                kernel_name=notebook_kernel(nb.metadata, self.kernel_name),
            )
        return judge(target, run.nb, run.failure, exercises, run.seconds)


def execution_metadata(nb: NotebookNode, cell_timeout: float | None) -> tuple[float | None, bool]:
    """The cell timeout and whether errors are allowed, from ``metadata.execution`` as nbmake reads it.

    ``timeout`` replaces ``cell_timeout`` when present (null: no timeout);
    ``allow_errors`` must be a boolean. ValueError names the key and what it holds.
    """
    execution = nb.metadata.get("execution", {})
    if not isinstance(execution, dict):
        raise ValueError(f"metadata.execution: expected an object, found {execution!r}")
    timeout = execution.get("timeout", cell_timeout)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)):
        raise ValueError(
            f"metadata.execution.timeout: expected a number of seconds, found {timeout!r}"
        )
    allow_errors = execution.get("allow_errors", False)
    if not isinstance(allow_errors, bool):
        raise ValueError(
            f"metadata.execution.allow_errors: expected true or false, found {allow_errors!r}"
        )
    return timeout, allow_errors


def _expected_failure(nb: NotebookNode, outcome: ExpectedOutcome) -> CellFailure:
    answer = outcome.answer_cells[-1]
    detail = f"{outcome.message()}\nexpected:\n{outcome.expected}\nfound:\n{outcome.found}"
    return CellFailure(
        answer, "expected-output", "ExpectedOutputMismatch", outcome.message(), detail,
        nb.cells[answer].source,
    )  # fmt: skip


def _checked_exercises(
    nb: NotebookNode, exercises: ExerciseMap, outcomes: list[ExpectedOutcome]
) -> set[str]:
    checked = {ex for ex, role in exercises.cells.values() if role in ("check", "grading")}
    for index, cell in enumerate(nb.cells):
        if check_role(cell) is not None:
            found, _ = exercises.locate(index)
            checked.update([found] if found else [])
    for outcome in outcomes:
        for index in outcome.answer_cells:
            found, _ = exercises.locate(index)
            checked.update([found] if found else [])
    return checked


RAISES_TAG = "raises-exception"
ALLOWED_NOTE = (
    "the notebook allows errors (metadata.execution.allow_errors), but a check that raises "
    "says the answer is wrong (nbmake passes it; tag the cell raises-exception if it must raise)"
)


def _is_check(nb: NotebookNode, exercises: ExerciseMap, index: int) -> bool:
    return (
        exercises.locate(index)[1] in ("check", "grading")
        or check_role(nb.cells[index]) is not None
    )


def expected_errors(
    nb: NotebookNode, exercises: ExerciseMap
) -> tuple[list[tuple[int, str]], CellFailure | None]:
    """The errors a run let pass: expected ones (cell, why), and the first that fails a check."""
    expected: list[tuple[int, str]] = []
    for error in error_outputs(nb):
        tags = nb.cells[error.cell_index].get("metadata", {}).get("tags", [])
        if RAISES_TAG in tags:
            expected.append((error.cell_index, f"tagged {RAISES_TAG}"))
        elif _is_check(nb, exercises, error.cell_index):
            return expected, error
        else:
            expected.append((error.cell_index, "execution.allow_errors"))
    return expected, None


def judge(
    target: ValidationTarget,
    nb: NotebookNode,
    failure: CellFailure | None,
    exercises: ExerciseMap,
    seconds: float,
) -> NotebookVerdict:
    """The verdict of an executed notebook: its failure, else its expectations, else unchecked."""
    expected, failed_check = expected_errors(nb, exercises) if failure is None else ([], None)
    failure = failure or failed_check
    outcomes = expected_output_checks(nb) if failure is None else []
    mismatch = next((o for o in outcomes if not o.matched), None)
    if mismatch is not None:
        failure = _expected_failure(nb, mismatch)
    exercise_id, role = (None, "")
    if failure is not None:
        exercise_id, role = exercises.locate(failure.cell_index)
        role = "expected-output" if failure.kind == "expected-output" else role
        if failure is failed_check and role not in ("check", "grading"):
            role = check_role(nb.cells[failure.cell_index]) or "check"
    ids = list(dict.fromkeys(ex for ex, _ in exercises.cells.values()))
    checked = _checked_exercises(nb, exercises, outcomes)
    anything = bool(outcomes) or any(check_role(cell) is not None for cell in nb.cells)
    unchecked = tuple(ex for ex in ids if ex not in checked)
    note = ALLOWED_NOTE if failure is not None and failure is failed_check else ""
    return NotebookVerdict(
        target, failure, exercise_id, role, seconds, nb, unchecked, anything, tuple(expected), note
    )


def _pytest_args(targets: Sequence[ValidationTarget], ini: Path, quiet: bool) -> list[str]:
    paths = [str(t.path.resolve()) for t in targets]
    rootdir = os.path.commonpath([str(Path(p).parent) for p in paths])
    verbosity = ["-p", "no:terminal"] if quiet else ["-q", "--no-header"]
    return [
        "-c", str(ini), "--rootdir", rootdir, "-p", "no:cacheprovider", "-p", "no:iterbench",
        # the host process's leaks (a test suite's, a caller's) are not this session's to report
        "-p", "no:unraisableexception", "-p", "no:threadexception",
        "--assert=plain", *verbosity, *paths,
    ]  # fmt: skip


def target_kernels(
    targets: Sequence[ValidationTarget], kernel_name: str | None
) -> dict[str, list[str]]:
    """Each kernel the targets run on, with the notebooks asking for it."""
    kernels: dict[str, list[str]] = {}
    for target in targets:
        name = notebook_kernel(read_notebook(target.path).metadata, kernel_name)
        who = "--kernel" if kernel_name else target.display_name
        kernels.setdefault(name, [])
        if who not in kernels[name]:
            kernels[name].append(who)
    return kernels


def validate_notebooks(
    targets: Sequence[ValidationTarget],
    *,
    pool: KernelPool | None = None,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    jobs: int = 2,
    kernel_name: str | None = None,
    quiet: bool = False,
) -> ValidationReport:
    """Run ``targets`` as nbmake pytest items; every verdict comes back, passed or not.

    Each notebook runs on ``kernel_name`` when given (``--kernel``), else on
    its own kernelspec's kernel; a kernel that is not installed raises
    ``KernelMissing`` before anything runs. Without a ``pool`` one is made for
    the call (``jobs`` kernels ahead) and closed after it.
    """
    if not targets:
        return ValidationReport()
    kernels = target_kernels(targets, kernel_name)
    check_kernels(kernels)
    own_pool = pool is None
    usual = max(kernels, key=lambda name: len(kernels[name]))
    active = pool or KernelPool(usual, size=min(jobs, len(targets)))
    plugin = NotebookValidation(targets, active, cell_timeout, jobs, kernel_name)
    try:
        with tempfile.TemporaryDirectory(prefix="iterbench-validate-") as folder:
            ini = Path(folder) / "pytest.ini"
            ini.write_text("[pytest]\n", encoding="utf-8")
            exit_code = int(pytest.main(_pytest_args(targets, ini, quiet), plugins=[plugin]))
    finally:
        if own_pool:
            active.close()
    unrun = [str(t.path) for t in targets if t.path.resolve() not in plugin.verdicts]
    if unrun:
        raise NotebookProcessorError(
            f"the pytest session (exit code {exit_code}) did not run: {', '.join(unrun)}"
        )
    return ValidationReport([plugin.verdicts[t.path.resolve()] for t in targets], exit_code)
