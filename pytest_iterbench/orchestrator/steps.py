"""Steps and the runner that executes them in order, resumably.

A ``Step`` says what it reads (``inputs()``, a hash) and what it does
(``action(context)``). The runner records each step as ``running`` (attempts
+ 1) before it acts and as ``done`` / ``skipped`` / ``failed`` after, saving
``state.json`` each time, emitting ``step.*`` events and printing a progress
line. On the next run, a step already ``done`` (or ``skipped``) with the same
inputs' hash is not redone; a step ``running`` (killed), ``failed``, or whose
inputs changed is run again. Steps that depend on another read its outputs in
their own inputs, so a change flows down to exactly the steps it touches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.orchestrator import killpoints
from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.state import (
    Orchestration,
    StateFile,
    StepKind,
    StepRecord,
    machine,
    sha256_file,
)
from pytest_iterbench.results.events import EventLog, clip
from pytest_iterbench.results.records import utc_now

STEP_START = "step.start"
STEP_FINISH = "step.finish"
STEP_SKIP = "step.skip"
ORCHESTRATION_START = "orchestration.start"
ORCHESTRATION_FINISH = "orchestration.finish"
ORCHESTRATION_PUSH = "orchestration.push"
#: Why a step stopped half way when the user (Ctrl-C) or the studio (Stop, a SIGINT) interrupted it.
INTERRUPTED = (
    "interrupted (Ctrl-C or the studio's Stop); `iterbench orchestrate --resume` runs it again"
)


@dataclass
class Outcome:
    """What a step's action did: its end status, the files it wrote, small outputs, cost."""

    status: Literal["done", "skipped", "failed", "interrupted"] = "done"
    produced: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    cost_usd: float = 0.0
    error: str | None = None


class StepContext(Protocol):
    """What an action sees: its own record (outputs of an interrupted attempt) and a checkpoint."""

    record: StepRecord

    def checkpoint(self, **outputs: Any) -> None: ...


@dataclass(frozen=True)
class Step:
    """One step: its id (``kind`` or ``kind:target``), what it reads, what it does."""

    id: str
    kind: StepKind
    target: str | None
    inputs: Callable[[], str]
    action: Callable[[StepContext], Outcome]
    #: False when what the step produced is gone (a deleted file): the step runs again.
    valid: Callable[[], bool] = lambda: True


class Committer(Protocol):
    """Persists the workspace after a step (git), or does nothing."""

    def after_step(self, orchestration: Orchestration, step: StepRecord) -> None: ...


@dataclass
class _Context:
    record: StepRecord
    runner: StepRunner

    def checkpoint(self, **outputs: Any) -> None:
        self.record.outputs.update(outputs)
        self.runner.save()


class StepRunner:
    """Runs steps in order against one ``state.json``, emitting events and progress lines."""

    def __init__(
        self,
        root: Path,
        orchestration: Orchestration,
        events: EventLog,
        *,
        committer: Committer | None = None,
        say: Callable[[str], None] = print,
        cost: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.root = root
        self.state = StateFile(root)
        self.orchestration = orchestration
        self.events = events
        self.committer = committer
        self.say = say
        self.cost = cost
        self.started = time.monotonic()

    def save(self) -> None:
        self.state.save(self.orchestration)

    def run(self, steps: list[Step], *, complete: bool = True) -> None:
        """Every step not done yet, in order; ``StepFailed`` at the first that fails.

        ``complete``: these are all the steps (records of others are dropped).
        """
        self.orchestration.arrange([(s.id, s.kind, s.target) for s in steps], complete=complete)
        self.save()
        for number, step in enumerate(steps, start=1):
            self._one(step, f"[{number}/{len(steps)}]")

    def _one(self, step: Step, counter: str) -> None:
        record = self.orchestration.step(step.id)
        assert record is not None  # arranged above
        inputs = step.inputs()
        if record.status in ("done", "skipped") and record.inputs == inputs and step.valid():
            self.events.emit(STEP_SKIP, step=step.id, reason="done before, inputs unchanged")
            self.say(f"{counter} {step.id}: already {record.status}")
            return
        self._start(record, inputs, counter)
        killpoints.kill_here(step.id, "before")
        began, spent = time.monotonic(), self.cost()
        stopped: KeyboardInterrupt | None = None
        try:
            outcome = step.action(_Context(record, self))
        except StepFailed as exc:
            outcome = Outcome("failed", error=exc.reason)
        except IterbenchError as exc:  # a bad plan, a model that answers nonsense: recorded
            outcome = Outcome("failed", error=str(exc))
        except KeyboardInterrupt as exc:  # Ctrl-C, or the studio's Stop: record it, then stop
            outcome, stopped = Outcome("interrupted", error=INTERRUPTED), exc
        outcome.cost_usd += self.cost() - spent
        self._finish(record, outcome, time.monotonic() - began, counter)
        if stopped is not None:
            raise stopped
        killpoints.kill_here(step.id, "after")
        if self.committer is not None:
            self.committer.after_step(self.orchestration, record)
        if outcome.status == "failed":
            raise StepFailed(step.id, outcome.error or "no reason given")

    def _start(self, record: StepRecord, inputs: str, counter: str) -> None:
        if record.inputs != inputs:
            record.outputs = {}  # an interrupted attempt's outputs are only good for the same inputs
        record.status, record.inputs, record.error = "running", inputs, None
        record.attempts += 1
        record.started_at, record.finished_at, record.machine = utc_now(), None, machine()
        self.save()
        self.events.emit(
            STEP_START, step=record.id, kind=record.kind, target=record.target,
            attempt=record.attempts,
        )  # fmt: skip
        self.say(f"{counter} {record.id}: running (attempt {record.attempts}){self._progress()}")

    def _finish(self, record: StepRecord, outcome: Outcome, seconds: float, counter: str) -> None:
        record.status, record.error = outcome.status, clip(outcome.error)
        record.finished_at, record.seconds = utc_now(), round(seconds, 3)
        record.cost_usd += outcome.cost_usd
        record.outputs.update(outcome.outputs)
        record.produced = {
            path: digest
            for path in outcome.produced
            if (digest := sha256_file(self.root / path)) is not None
        }
        self.save()
        self.events.emit(
            STEP_FINISH, step=record.id, status=record.status, seconds=record.seconds,
            cost_usd=record.cost_usd, error=record.error, produced=sorted(record.produced),
        )  # fmt: skip
        why = f": {record.error}" if record.error else ""
        self.say(f"{counter} {record.id}: {record.status} in {seconds:.1f}s{why}{self._progress()}")

    def _progress(self) -> str:
        elapsed = time.monotonic() - self.started
        return f" (elapsed {elapsed:.1f}s, cost so far ${self.orchestration.cost_usd:.4f})"
