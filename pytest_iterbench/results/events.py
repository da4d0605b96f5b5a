"""Events: what happens in a workspace, one JSON line each, as it happens, for live views.

Every ``pytest --iterbench`` session (its controller) and every orchestration
appends to the workspace's one stream, ``.iterbench/events/events.jsonl``;
the studio and ``iterbench status`` follow it. It is a live feed, not a store:
``results.json`` (through each session's journal) stays the record of what
was measured, and a lost event loses nothing but a progress tick.

Each line is a JSON object with ``v`` (the format version, 1), ``event`` (its
kind), ``at`` (UTC time, ISO 8601 with ``Z``), ``pid`` (the writing process),
and the kind's own fields (``docs/events.md`` lists them). A line is written
with one ``write`` on a file opened with ``O_APPEND``, so lines from several
processes never interleave. When the file passes ``ROTATE_BYTES`` at the
start of a stream, it is renamed to ``events.1.jsonl`` (replacing the older
one) and a new file begins; a follower notices and starts the new file.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> log = EventLog(root / "events.jsonl")
>>> log.emit("session.start", session_id="s1", run_id="run-001")
>>> follower = EventFollower(root / "events.jsonl")
>>> [e["event"] for e in follower.poll()]
['session.start']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pytest_iterbench.results.records import utc_now

FORMAT_VERSION: Final = 1
EVENTS_FILE: Final = "events.jsonl"
ROTATED_FILE: Final = "events.1.jsonl"
#: A stream is rotated, when it starts, past this size.
ROTATE_BYTES: Final = 32 * 1024 * 1024
#: One encoder for every event line (``json.dumps`` builds a new one at each call).
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str)
#: Free text in an event (a failure reason) is cut to this many characters.
TEXT_LIMIT: Final = 2000

#: The kinds of event the harness writes (the orchestrator adds its own ``step.*``, ``orchestration.*``).
SESSION_START: Final = "session.start"
SESSION_ITEMS: Final = "session.items"
ITEM_START: Final = "item.start"
ITEM_FINISH: Final = "item.finish"
SESSION_FINISH: Final = "session.finish"


def events_path(events_dir: Path) -> Path:
    """The workspace's stream inside ``WorkspacePaths.events_dir``."""
    return events_dir / EVENTS_FILE


def clip(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    """``text`` cut to ``limit`` characters, marked when cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class EventLog:
    """Appends events to one stream; never raises on a failed write (a live feed must not stop work)."""

    def __init__(self, path: Path, *, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.path = path
        self.failed: OSError | None = None
        self._fd: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > rotate_bytes:
                os.replace(path, path.with_name(ROTATED_FILE))
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            self.failed = exc

    def emit(self, event: str, **fields: Any) -> None:
        """Append one event (``fields`` must be JSON-serialisable)."""
        if self._fd is None:
            return
        document = {"v": FORMAT_VERSION, "event": event, "at": utc_now(), "pid": os.getpid()}
        document.update(fields)
        line = _ENCODER.encode(document) + "\n"
        try:
            os.write(self._fd, line.encode("utf-8"))
        except OSError as exc:
            self.failed = exc

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class EventFollower:
    """Reads a stream from where it last stopped: complete lines only, across rotations.

    ``poll()`` returns the events written since the last call (all of them on
    the first call, or only new ones with ``from_end=True``); a line that is
    not valid JSON is skipped (a writer killed mid-line leaves one at most).
    """

    path: Path
    from_end: bool = False
    offset: int = 0
    inode: int | None = None

    def __post_init__(self) -> None:
        if self.from_end and self.path.exists():
            stat = self.path.stat()
            self.offset, self.inode = stat.st_size, stat.st_ino

    def poll(self) -> list[dict[str, Any]]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        if stat.st_ino != self.inode or stat.st_size < self.offset:
            self.inode, self.offset = stat.st_ino, 0
        if stat.st_size == self.offset:
            return []
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            data = stream.read(stat.st_size - self.offset)
        end = data.rfind(b"\n") + 1
        self.offset += end
        return list(_parse_lines(data[:end]))


def _parse_lines(data: bytes) -> Iterator[dict[str, Any]]:
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "event" in event:
            yield event


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a stream (an absent stream has none)."""
    return EventFollower(path).poll()
