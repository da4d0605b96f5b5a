"""Per-notebook progress in the workspace's ``state.json``, written atomically.

The processor keeps its part of ``state.json`` under ``"notebooks"``, keyed by
the SHA-256 of the notebook's bytes; every other key (the orchestrator's) is
left as it was. Each update takes a cross-process lock, reads the file,
changes one entry and replaces the file atomically (write, fsync, rename), so
a run killed at any moment leaves the last finished step on disk.

.. code-block:: json

    {"notebooks": {"3fa2...": {"name": "hw1.ipynb", "status": "running",
                               "finished": {"parse": {"at": "...", "seconds": 0.01, "summary": "..."}}}}}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from filelock import FileLock

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.notebook.errors import StateError
from pytest_iterbench.results.records import utc_now
from pytest_iterbench.workspace.paths import WorkspacePaths

SECTION = "notebooks"
Step = Literal["parse", "solve", "build", "validate", "export", "archive"]
STEPS: tuple[Step, ...] = get_args(Step)
Status = Literal["running", "failed", "done"]


def bytes_hash(data: bytes) -> str:
    """The SHA-256 of some bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def content_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class NotebookProgress:
    """How far one notebook (one content hash) got, and where its files are."""

    sha256: str
    name: str
    source: str
    work: str
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: Status = "running"
    error: dict[str, Any] | None = None
    outputs: list[str] = field(default_factory=list)
    archived_to: str | None = None
    updated_at: str = ""

    def next_step(self) -> Step | None:
        """The first step not finished yet; None when all are."""
        return next((step for step in STEPS if step not in self.finished), None)

    def finish(self, step: Step, seconds: float, summary: str) -> None:
        self.finished[step] = {"at": utc_now(), "seconds": round(seconds, 4), "summary": summary}
        self.error = None

    def forget_from(self, step: Step) -> None:
        """Make ``step`` and every step after it run again."""
        for later in STEPS[STEPS.index(step) :]:
            self.finished.pop(later, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "work": self.work,
            "status": self.status,
            "finished": self.finished,
            "error": self.error,
            "outputs": self.outputs,
            "archived_to": self.archived_to,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, sha256: str, data: dict[str, Any]) -> NotebookProgress:
        return cls(
            sha256=sha256,
            name=data["name"],
            source=data.get("source", ""),
            work=data["work"],
            finished=dict(data.get("finished") or {}),
            status=data.get("status", "running"),
            error=data.get("error"),
            outputs=list(data.get("outputs") or []),
            archived_to=data.get("archived_to"),
            updated_at=data.get("updated_at", ""),
        )


class StateStore:
    """The notebook processor's view of ``<workspace>/state.json``."""

    def __init__(self, workspace: Path) -> None:
        paths = WorkspacePaths(workspace)
        self.path = paths.state
        self._lock = FileLock(str(paths.state_lock))

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise StateError(f"cannot read {self.path}: {exc}; fix or remove it") from exc
        if not isinstance(data, dict) or not isinstance(data.get(SECTION, {}), dict):
            raise StateError(f"{self.path}: expected an object with an object {SECTION!r}")
        return data

    def load(self, sha256: str) -> NotebookProgress | None:
        """The progress recorded for this content, if any."""
        entry = self._read().get(SECTION, {}).get(sha256)
        return None if entry is None else NotebookProgress.from_json(sha256, entry)

    def all(self) -> list[NotebookProgress]:
        return [NotebookProgress.from_json(k, v) for k, v in self._read().get(SECTION, {}).items()]

    def save(self, progress: NotebookProgress) -> None:
        """Record ``progress``, keeping every other entry and key of the file."""
        Path(self._lock.lock_file).parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = self._read()
            progress.updated_at = utc_now()
            data.setdefault(SECTION, {})[progress.sha256] = progress.to_json()
            write_text_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
