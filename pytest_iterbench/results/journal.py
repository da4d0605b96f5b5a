"""Journals: each session's records, one JSON line each, until they are folded into ``results.json``.

A session appends every record to ``.iterbench/journal/<session>.jsonl`` as it
arrives and holds a lock on ``<session>.jsonl.lock`` while it lives: a journal
whose lock is free belongs to a session that died. Reading a journal checks
each line: a line cut by a kill is dropped; a line that is not a valid record
(NaN, a missing field, a non-string id) is moved aside to
``.iterbench/journal/rejected/`` with a warning, never folded and never blocking.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from pytest_iterbench.results.document import dump_record

#: Fields every record holds (the results schema's ``required``), and the string ones among them.
REQUIRED_FIELDS = (
    "run_id",
    "iteration_id",
    "metric_id",
    "value",
    "unit",
    "executed_at",
    "environment",
)
STRING_FIELDS = ("record_id", "run_id", "iteration_id", "metric_id", "unit", "executed_at")
#: How long opening a journal waits for its lock (a recovery may be looking at it).
OPEN_TIMEOUT = 10.0


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_record(line: bytes) -> dict[str, Any]:
    """One record from a JSON line; raises ValueError saying what is wrong with it."""
    try:
        record = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason})") from exc
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    problem = record_problem(record)
    if problem is not None:
        raise ValueError(problem)
    return record


def record_problem(record: dict[str, Any]) -> str | None:
    """What makes ``record`` unfit for ``results.json`` (the schema's required fields), or None."""
    missing = [name for name in REQUIRED_FIELDS if name not in record]
    if missing:
        return f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    for name in STRING_FIELDS:
        if name in record and not isinstance(record[name], str):
            return f"{name}: expected a string, found {json.dumps(record[name])[:40]}"
    value = record["value"]
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        return f"value: expected a finite number or null, found {str(value)[:40]}"
    environment = record["environment"]
    if not isinstance(environment, dict):
        return "environment: expected an object"
    return None


#: A record's line as a file holds it (JSON, no indent, no newline) and the record it holds.
RecordLine = tuple[bytes, dict[str, Any]]


@dataclass
class JournalReading:
    """The valid records of a journal, each with its line, and what was wrong with the other lines."""

    records: list[RecordLine] = field(default_factory=list)
    rejected: list[tuple[int, bytes, str]] = field(default_factory=list)


def read_journal_lines(path: Path) -> JournalReading:
    """Every line of a journal, sorted into records and rejected lines (line number, bytes, why).

    The last line, when it has no newline, was cut by a kill: it is dropped silently.
    A record's line is kept as the journal has it, whitespace stripped: it is
    valid strict JSON of one object, so the fold appends it to ``results.json``
    as it is instead of writing the record out again.
    """
    reading = JournalReading()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                break  # cut short by a kill: never a finished record
            if not line.strip():
                continue
            try:
                record = parse_record(line)
            except ValueError as exc:
                reading.rejected.append((number, line, str(exc)))
                continue
            if "record_id" not in record:
                reading.rejected.append((number, line, "missing required field: record_id"))
                continue
            reading.records.append((line.strip(), record))
    return reading


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The valid, complete records of a journal."""
    yield from (record for _, record in read_journal_lines(path).records)


def set_aside(path: Path, reading: JournalReading) -> list[str]:
    """Move a journal's rejected lines to ``rejected/<name>``; one warning per line."""
    if not reading.rejected:
        return []
    folder = path.parent / "rejected"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / path.name).open("ab") as handle:
        for _, line, _ in reading.rejected:
            handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return [
        f"{path}: line {number}: not a valid record ({why}); skipped, kept in {folder / path.name}"
        for number, _, why in reading.rejected
    ]


class Journal:
    """One session's append-only journal; the lock on it says the session is alive.

    A record that cannot be written (a full disk) is kept in memory and written
    with the next one, or at :meth:`close`; :attr:`unwritten` counts what is pending.
    What is still pending at :meth:`close` is spilled to :func:`spill_dir`, on the
    temporary folder's file system, where :meth:`ResultsStore.recover` finds it;
    :attr:`spilled` names that file, :attr:`lost` counts records written nowhere.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = FileLock(lock_path(path))
        self.lock.acquire(timeout=OPEN_TIMEOUT)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        #: Where the journal's complete lines end: a write the disk refused half way is cut back here.
        self._end = os.fstat(self._fd).st_size
        self.count = 0
        self._pending = b""
        self.error: OSError | None = None
        self.spilled: Path | None = None
        self.lost = 0

    @property
    def unwritten(self) -> int:
        return sum(1 for line in self._pending.split(b"\n") if line)

    def append(self, record: dict[str, Any], line: str | None = None) -> None:
        """Write one record as one line; once written, a kill of this process cannot lose it.

        ``line``: the record's JSON text, when the caller has it already (it must
        be ``record`` serialised on one line); else :func:`dump_record` writes it.
        """
        self._pending += ((dump_record(record) if line is None else line) + "\n").encode()
        self.count += 1
        self._flush()

    def _flush(self) -> None:
        """Write the pending lines whole, or none of them: a line split across two files is lost."""
        done = 0
        try:
            while done < len(self._pending):
                done += os.write(self._fd, self._pending[done:])
        except OSError as exc:  # a full disk: keep the lines, try again with the next record
            self.error = exc
            if done:
                self._cut_back()
            return
        self._end += len(self._pending)
        self._pending = b""

    def _cut_back(self) -> None:
        """Remove the head of a line the disk took only part of (shrinking needs no space)."""
        try:
            os.ftruncate(self._fd, self._end)
        except OSError:
            # The piece stays; a newline ends it, so that it is a line set aside, not glued to the next.
            self._pending = b"\n" + self._pending
            self._end = os.fstat(self._fd).st_size

    def close(self, *, keep_lock: bool = False) -> None:
        """Write what is pending and close the file; with ``keep_lock``, hold the lock until :meth:`release`.

        A session keeps it while it folds its own journal, so that no recovery folds it too.
        """
        self._flush()
        os.close(self._fd)
        if self._pending:
            self._spill()
        if not keep_lock:
            self.release()

    def _spill(self) -> None:
        """Write what the journal's disk refused to the temporary folder's (another disk, often)."""
        target = spill_dir(self.path.parent) / self.path.name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("ab") as handle:
                handle.write(self._pending)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.error = exc
            self.lost = self.unwritten
            return
        self.spilled = target
        self._pending = b""

    def release(self) -> None:
        self.lock.release()


def spill_dir(journal_dir: Path) -> Path:
    """Where a workspace's journals spill records their own disk refused: one folder per workspace."""
    key = hashlib.sha256(str(journal_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "iterbench-spill" / key


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")
