"""The orchestrator's part of ``state.json``: the task, the plan's hash, every step's record.

``state.json`` is shared with the notebook processor (its key ``notebooks``);
the orchestrator owns the key ``orchestration`` and leaves every other key as
it was. Each save takes the workspace's state lock, reads the file, checks the
whole document against ``schemas/state-schema.json``, replaces its own key and
writes the file atomically (write, fsync, rename). A file that does not parse
or match the schema stops everything with ``StateCorrupt`` and is never
overwritten. Paths are workspace-relative; nothing secret is stored.

>>> store = StateFile(Path("."))  # doctest: +SKIP
>>> state = store.load()  # doctest: +SKIP
>>> [(s.id, s.status) for s in state.steps]  # doctest: +SKIP
[('plan', 'done'), ('implement:v2-mlp', 'running')]
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.orchestrator.errors import StateCorrupt
from pytest_iterbench.results.records import utc_now
from pytest_iterbench.workspace.files import read_json
from pytest_iterbench.workspace.paths import WorkspacePaths
from pytest_iterbench.workspace.schemas import validate

SECTION = "orchestration"
StepStatus = Literal["pending", "running", "done", "failed", "skipped", "interrupted"]
StepKind = Literal[
    "plan", "implement", "metric", "benchmark", "review", "report", "notebook", "persist"
]
PlannerName = Literal["manual", "claude-api", "kernel"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it does not exist."""
    try:
        return sha256_bytes(path.read_bytes())
    except FileNotFoundError:
        return None


def sha256_json(value: Any) -> str:
    """The SHA-256 of a JSON value in a canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_bytes(text.encode("utf-8"))


def machine() -> str:
    """The host a step ran on (its name only: no user, no path)."""
    return platform.node() or "unknown"


@dataclass
class StepRecord:
    """One step's record: its status, attempts, inputs' hash, what it produced and cost."""

    id: str
    kind: StepKind
    target: str | None = None
    status: StepStatus = "pending"
    attempts: int = 0
    inputs: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    machine: str | None = None
    cost_usd: float = 0.0
    produced: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "status": self.status,
            "attempts": self.attempts,
            "inputs": self.inputs,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "machine": self.machine,
            "cost_usd": round(self.cost_usd, 10),
            "produced": dict(sorted(self.produced.items())),
            "outputs": self.outputs,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        return cls(
            id=data["id"],
            kind=data["kind"],
            target=data.get("target"),
            status=data["status"],
            attempts=int(data["attempts"]),
            inputs=data.get("inputs"),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            seconds=data.get("seconds"),
            machine=data.get("machine"),
            cost_usd=float(data.get("cost_usd") or 0.0),
            produced=dict(data.get("produced") or {}),
            outputs=dict(data.get("outputs") or {}),
            error=data.get("error"),
        )


@dataclass
class GitState:
    """Where persistence to git stands: the last commit, and a push still owed to the remote."""

    remote: str | None = None
    last_commit: str | None = None
    push_pending: bool = False
    push_failures: int = 0
    last_push_error: str | None = None
    last_push_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "last_commit": self.last_commit,
            "push_pending": self.push_pending,
            "push_failures": self.push_failures,
            "last_push_error": self.last_push_error,
            "last_push_at": self.last_push_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitState:
        return cls(
            remote=data.get("remote"),
            last_commit=data.get("last_commit"),
            push_pending=bool(data.get("push_pending")),
            push_failures=int(data.get("push_failures") or 0),
            last_push_error=data.get("last_push_error"),
            last_push_at=data.get("last_push_at"),
        )


@dataclass
class Orchestration:
    """The whole orchestration: what was asked, with which planner, and every step."""

    task: dict[str, Any]
    planner: PlannerName
    plan_hash: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    git: GitState = field(default_factory=GitState)

    @property
    def cost_usd(self) -> float:
        return sum(step.cost_usd for step in self.steps)

    def step(self, step_id: str) -> StepRecord | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def arrange(
        self, wanted: list[tuple[str, StepKind, str | None]], complete: bool = True
    ) -> None:
        """Put ``wanted`` first, in order, keeping the records of those that exist.

        ``complete``: drop the records of every other step; else keep them after.
        """
        known = {step.id: step for step in self.steps}
        first = [
            known.get(step_id) or StepRecord(step_id, kind, target)
            for step_id, kind, target in wanted
        ]
        ids = {step.id for step in first}
        self.steps = first + ([] if complete else [s for s in self.steps if s.id not in ids])

    def to_json(self) -> dict[str, Any]:
        return {
            "state_version": 1,
            "task": self.task,
            "planner": self.planner,
            "plan_hash": self.plan_hash,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "cost_usd": round(self.cost_usd, 10),
            "steps": [step.to_json() for step in self.steps],
            "git": self.git.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Orchestration:
        return cls(
            task=dict(data["task"]),
            planner=data["planner"],
            plan_hash=data.get("plan_hash"),
            steps=[StepRecord.from_json(step) for step in data["steps"]],
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            git=GitState.from_json(data.get("git") or {}),
        )


class StateFile:
    """``<workspace>/state.json`` as the orchestrator reads and writes it."""

    def __init__(self, workspace: Path) -> None:
        self.paths = WorkspacePaths(workspace)
        self.path = self.paths.state
        self._lock = FileLock(str(self.paths.state_lock))

    def read_document(self) -> dict[str, Any]:
        """The whole file (``{}`` when absent); ``StateCorrupt`` when unreadable or off-schema."""
        if not self.path.exists():
            return {}
        document, problems = read_json(self.path, self.path.name)
        problems = problems or validate("state", document, str(self.path))
        if problems:
            found = "; ".join(str(problem) for problem in problems[:5])
            raise StateCorrupt(
                f"{self.path}: expected a state file matching schemas/state-schema.json, found: "
                f"{found}. Nothing was changed: fix the file, or move it away to start over"
            )
        data: dict[str, Any] = document
        return data

    def load(self) -> Orchestration | None:
        """The orchestration recorded, or None when none was started here."""
        section = self.read_document().get(SECTION)
        return None if section is None else Orchestration.from_json(section)

    def save(self, orchestration: Orchestration) -> None:
        """Record ``orchestration`` atomically, keeping every other key of the file."""
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            document = self.read_document()
            orchestration.updated_at = utc_now()
            orchestration.created_at = orchestration.created_at or orchestration.updated_at
            document[SECTION] = orchestration.to_json()
            document.setdefault("$schema", "schemas/state-schema.json")
            problems = validate("state", document, str(self.path))
            if problems:  # a bug of ours: never write what the next run could not read
                raise StateCorrupt(
                    f"{self.path}: refusing to write an invalid state: {problems[0]}"
                )
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            write_text_atomically(self.path, text)
