"""The trace of every Claude API call: ``.iterbench/traces/<day>.jsonl``, one JSON line per call.

A record holds the role (planner, solver, reviewer), the model, the token
counts, the cost, the latency, the retries, a hash of the prompt and, unless
the user turned it off, the prompt and the answer themselves. Records are
appended under a file lock and fsynced; a line cut short by a crash is skipped
on reading. The API key is never part of a record: the client scrubs every
text before it gets here.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.workspace.paths import WorkspacePaths

Role = Literal["planner", "solver", "reviewer"]
CallStatus = Literal["ok", "error"]


def prompt_hash(request: dict[str, Any]) -> str:
    """SHA-256 of the request's content (model, system, messages, tools), key order aside."""
    text = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TraceRecord:
    """One API call, as written to the trace."""

    timestamp: str
    role: Role
    model: str
    status: CallStatus
    usage: TokenUsage
    cost_usd: float | None
    latency_seconds: float
    retries: int
    prompt_sha256: str
    iteration_id: str | None = None
    attempt: int | None = None
    stop_reason: str | None = None
    request_id: str | None = None
    error: str | None = None
    price_table: str | None = None
    prompt: dict[str, Any] | None = None
    answer: list[dict[str, Any]] | None = None
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def day(self) -> str:
        return self.timestamp[:10]

    def without_content(self) -> TraceRecord:
        return replace(self, prompt=None, answer=None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "call_id": self.call_id,
            "timestamp": self.timestamp,
            "role": self.role,
            "model": self.model,
            "iteration_id": self.iteration_id,
            "attempt": self.attempt,
            "status": self.status,
            **self.usage.to_json(),
            "cost_usd": self.cost_usd,
            "price_table": self.price_table,
            "latency_seconds": round(self.latency_seconds, 6),
            "retries": self.retries,
            "stop_reason": self.stop_reason,
            "request_id": self.request_id,
            "error": self.error,
            "prompt_sha256": self.prompt_sha256,
        }
        if self.prompt is not None:
            data["prompt"] = self.prompt
        if self.answer is not None:
            data["answer"] = self.answer
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TraceRecord:
        return cls(
            call_id=data["call_id"],
            timestamp=data["timestamp"],
            role=data["role"],
            model=data["model"],
            status=data.get("status", "ok"),
            usage=TokenUsage.from_json(data),
            cost_usd=data.get("cost_usd"),
            latency_seconds=float(data.get("latency_seconds") or 0.0),
            retries=int(data.get("retries") or 0),
            prompt_sha256=data.get("prompt_sha256", ""),
            iteration_id=data.get("iteration_id"),
            attempt=data.get("attempt"),
            stop_reason=data.get("stop_reason"),
            request_id=data.get("request_id"),
            error=data.get("error"),
            price_table=data.get("price_table"),
            prompt=data.get("prompt"),
            answer=data.get("answer"),
        )


class TraceStore:
    """The trace files of one workspace (``<workspace>/.iterbench/traces/``)."""

    def __init__(self, workspace_root: Path, *, store_content: bool = True) -> None:
        self.directory = WorkspacePaths(Path(workspace_root)).traces_dir
        self.store_content = store_content

    def append(self, record: TraceRecord) -> Path:
        """Append one record to the file of its day; returns that file."""
        if not self.store_content:
            record = record.without_content()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{record.day}.jsonl"
        line = json.dumps(record.to_json(), ensure_ascii=False, allow_nan=False) + "\n"
        with FileLock(self.directory / ".lock"), path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return path

    def records(self) -> Iterator[TraceRecord]:
        """Every complete record, file by file in name (day) order."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.jsonl")):
            yield from _read(path)


def _read(path: Path) -> Iterator[TraceRecord]:
    with path.open("rb") as handle:
        for line in handle:
            try:
                data = json.loads(line.decode("utf-8"))
                yield TraceRecord.from_json(data)
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a crash, or not a trace record
