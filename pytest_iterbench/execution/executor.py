"""An iteration's execution: its entry point run once per session, shared by its metrics.

``Executor`` runs each iteration at most once per pytest session, even under
xdist: the first process to need an iteration takes a file lock, executes it
through the process template, and saves the ``Execution``; any other process
then loads it instead of running the entry point again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from pytest_iterbench.errors import ExecutionFailed
from pytest_iterbench.execution.exclusivity import MeasurementLock
from pytest_iterbench.execution.isolation import (
    ExecutionRequest,
    RawOutcome,
    Status,
    usable_timeout,
)
from pytest_iterbench.execution.keys import execution_key, timing_key
from pytest_iterbench.execution.logs import bound_log, clip_text, read_tail
from pytest_iterbench.execution.timing import TimedRounds, TimingPlan
from pytest_iterbench.secrets import Scrubber
from pytest_iterbench.workspace.model import Iteration

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Execution:
    """The outcome of running one iteration's entry point: outputs and resources.

    Metrics read it; they never run the entry point themselves. ``status`` is
    ``ok``, ``error`` (raised, exited, killed by a signal, out of memory) or
    ``timeout``, with ``reason`` saying why.
    """

    iteration: Iteration
    directory: Path
    status: Status
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    traceback: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None
    pid: int | None = None
    workspace_root: Path | None = None
    timed_rounds: TimedRounds | None = None
    exclusive: bool = False  # held the measurement lock exclusively (or ran serially)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def id(self) -> str:
        """The iteration's id."""
        return self.iteration.id

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters ``run()`` received."""
        return self.iteration.parameters

    def raise_for_status(self) -> None:
        """Raise ``ExecutionFailed`` (with traceback and log tail) unless the execution succeeded."""
        if not self.ok:
            raise ExecutionFailed(
                self.iteration.id, self.status, self.reason or "", self.describe_failure()
            )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the iteration printed (stdout and stderr together), each clipped.

        Reads only the end of the log, however much the iteration printed.
        """
        if self.log_path is None:
            return ""
        return "\n".join(read_tail(self.log_path, lines))

    def describe_failure(self) -> str:
        """A multi-line explanation of a failed execution, for the test report."""
        parts = [f"iteration {self.iteration.id!r} {self.status}: {self.reason}"]
        if self.traceback:
            parts.append(self.traceback.rstrip())
        tail = self.log_tail()
        if tail:
            parts.append(f"last lines printed (full log: {self.log_path}):\n{tail}")
        return "\n".join(parts)

    @classmethod
    def from_outcome(
        cls,
        iteration: Iteration,
        directory: Path,
        outcome: RawOutcome,
        log_path: Path,
        workspace_root: Path | None = None,
        exclusive: bool = False,
        scrubber: Scrubber | None = None,
    ) -> Execution:
        """The execution of a runner's outcome; its reason and traceback clipped and scrubbed."""
        result = outcome.result
        scrub = (scrubber or Scrubber()).scrub_optional
        return cls(
            iteration=iteration,
            directory=directory,
            status=outcome.status,
            outputs=result.get("outputs", {}),
            reason=scrub(clip_text(outcome.reason)),
            traceback=scrub(clip_text(result.get("traceback"))),
            timings=result.get("timings", {}),
            resources=result.get("resources", {}),
            log_path=log_path,
            pid=outcome.pid,
            workspace_root=workspace_root,
            exclusive=exclusive,
            timed_rounds=TimedRounds(**result["timed_rounds"])
            if "timed_rounds" in result
            else None,
        )


class EntryPointRunner(Protocol):
    """Runs one kind of entry point (``.py``, ``.ipynb``, ...) for the executor; never raises.

    ``.py`` entry points run in the process template (``ProcessTemplate.execute``);
    other kinds come from the ``pytest_iterbench_entry_point_runner`` hook.
    """

    def __call__(self, request: ExecutionRequest) -> RawOutcome: ...


@dataclass(frozen=True)
class Limits:
    """Session-wide defaults; an iteration's own ``timeout`` / ``memory_limit_mb`` win."""

    timeout: float | None = None
    memory_limit_mb: float | None = None

    def for_iteration(self, iteration: Iteration) -> Limits:
        return Limits(
            timeout=iteration.timeout if iteration.timeout is not None else self.timeout,
            memory_limit_mb=iteration.memory_limit_mb
            if iteration.memory_limit_mb is not None
            else self.memory_limit_mb,
        )


class Executor:
    """Runs each iteration at most once per session, in isolation, and caches the result.

    ``scratch`` is the session's folder (shared by xdist workers on one host):
    it holds the per-iteration lock, the child's result and the log.
    ``runners`` maps an entry point's suffix (``.py``) to what runs it. With
    ``exclusive_executions`` (the run measures execution time), an execution
    holds the session's ``MeasurementLock`` exclusively: nothing else runs
    meanwhile, on any worker. ``scrubber`` (default: the secrets of this
    process's environment) cleans logs, reasons and tracebacks.
    """

    def __init__(
        self,
        workspace_root: Path,
        scratch: Path,
        runners: Mapping[str, EntryPointRunner],
        limits: Limits,
        *,
        lock: MeasurementLock | None = None,
        thread_cap: int | None = None,
        exclusive_executions: bool = False,
        lock_is_moot: bool = True,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.workspace_root = workspace_root
        self.scratch = scratch
        self.runners = dict(runners)
        self.limits = limits
        self.lock = lock or MeasurementLock(scratch, enabled=False)
        self.thread_cap = thread_cap
        self.exclusive_executions = exclusive_executions
        self.lock_is_moot = lock_is_moot  # a serial session: nothing else runs anyway
        self.scrubber = Scrubber.from_environment() if scrubber is None else scrubber
        self._cache: dict[str, Execution] = {}
        self.executed: list[str] = []  # executions this process ran itself, in order

    def get(self, iteration: Iteration, repeat: int = 0, seed: int | None = None) -> Execution:
        """One execution of the iteration: from memory, from another worker, or run now.

        Repeat ``r`` with a ``seed`` runs ``run({**parameters, "seed": seed})``.
        """
        key = execution_key(iteration.id, repeat)
        if key in self._cache:
            return self._cache[key]
        self.scratch.mkdir(parents=True, exist_ok=True)
        saved = self.scratch / f"{key}.execution.pickle"
        execution = _load(saved)  # another worker may have run it already
        if execution is None:
            # Lock order: the measurement lock, then the iteration's file lock. Waiting
            # for the file lock while holding the measurement lock shared would deadlock
            # with a worker that holds the file lock and waits to measure exclusively.
            with self._measuring(self.exclusive_executions), FileLock(self.scratch / f"{key}.lock"):
                execution = _load(saved)
                if execution is None:
                    configured = replace(
                        iteration, parameters=effective_parameters(iteration, seed)
                    )
                    execution = self._run(configured, key, exclusive=self.exclusive_executions)
                    _save(saved, execution)
        self._cache[key] = execution
        return execution

    def time(
        self, iteration: Iteration, plan: TimingPlan, repeat: int = 0, seed: int | None = None
    ) -> Execution:
        """Time ``run()`` in calibrated rounds in a fresh child, holding the lock exclusively.

        The rounds are in the returned execution's ``timed_rounds``.
        """
        key = timing_key(iteration.id, repeat)
        self.scratch.mkdir(parents=True, exist_ok=True)
        configured = replace(iteration, parameters=effective_parameters(iteration, seed))
        with self._measuring(True):
            return self._run(configured, key, timing=plan.to_json(), exclusive=True)

    def _measuring(self, exclusive: bool) -> AbstractContextManager[None]:
        return self.lock.exclusive() if exclusive else contextlib.nullcontext()

    def _run(
        self,
        iteration: Iteration,
        key: str,
        timing: dict[str, Any] | None = None,
        exclusive: bool = False,
    ) -> Execution:
        limits = self.limits.for_iteration(iteration)
        directory = iteration.directory(self.workspace_root)
        log_path = self.scratch / f"{key}.log"
        request = ExecutionRequest(
            directory=directory,
            entry_point=iteration.entry_point,
            parameters=iteration.parameters,
            result_path=self.scratch / f"{key}.result.pickle",
            log_path=log_path,
            timeout=usable_timeout(limits.timeout),
            memory_limit_mb=limits.memory_limit_mb,
            extra_path=(str(self.workspace_root),),
            thread_cap=self.thread_cap,
            timing=timing,
        )
        outcome = self._runner(iteration.entry_point)(request)
        self.executed.append(key)
        with contextlib.suppress(FileNotFoundError):
            request.result_path.unlink()
        bound_log(log_path, self.scrubber)
        exclusive = exclusive and (self.lock.enabled or self.lock_is_moot)
        return Execution.from_outcome(
            iteration, directory, outcome, log_path, self.workspace_root, exclusive, self.scrubber
        )

    def _runner(self, entry_point: str) -> EntryPointRunner:
        suffix = Path(entry_point).suffix
        runner = self.runners.get(suffix)
        return runner if runner is not None else _no_runner(suffix)


def _no_runner(suffix: str) -> EntryPointRunner:
    def fail(request: ExecutionRequest) -> RawOutcome:
        hint = (
            " (notebook iterations need the notebook extra: pip install 'pytest-iterbench[notebook]')"
            if suffix == ".ipynb"
            else ""
        )
        return RawOutcome(
            "error",
            reason=f"no runner for {suffix or 'suffix-less'} entry points such as {request.entry_point}{hint}; "
            "a plugin provides one through the pytest_iterbench_entry_point_runner hook",
        )

    return fail


def effective_parameters(iteration: Iteration, seed: int | None) -> dict[str, Any]:
    """The parameters ``run()`` receives: the iteration's, with the repeat's seed if any."""
    return iteration.parameters if seed is None else {**iteration.parameters, "seed": seed}


def _load(path: Path) -> Execution | None:
    try:
        with path.open("rb") as handle:
            execution: Execution = pickle.load(handle)
            return execution
    except FileNotFoundError:
        return None


def _save(path: Path, execution: Execution) -> None:
    partial = path.with_suffix(".partial")
    try:
        with partial.open("wb") as handle:
            pickle.dump(execution, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        # Outputs that pickle in the child but not here are rare; this process keeps them in memory.
        partial.unlink(missing_ok=True)
        return
    os.replace(partial, path)
