"""An index of ``results.json``, so that reading costs what is read.

``.iterbench/index/results.sqlite`` (stdlib :mod:`sqlite3`) holds one row per
record line: its byte offset and length, line number, and the fields reports
select and group by (run, session, iteration, metric, configuration hash,
status, value, repeat, time). It is derived from ``results.json`` alone and
never trusted over it:

- it names the file it covers (device, inode), how far (the end of the last
  indexed record) and a fingerprint of the covered bytes (their first and last
  4 KB); the file grew: only the new bytes are indexed; it shrank, was replaced
  or the covered bytes changed: the index is rebuilt;
- a record read through it is read from the file at its offset and must carry
  the id the index holds, else the index is rebuilt (:class:`StaleIndex`);
- lines that hold no valid record (NaN, missing fields) are listed with their
  line number, and every reader is warned about them.

It also keeps a compressed copy of every record line it has indexed (table
``kept``, which a rebuild does not empty), so that a rewritten file that lost
records it held can be given them back (:attr:`ResultsIndex.lost`, restored by
the store). An absent file is a fresh start: the copies are dropped.

Where ``.iterbench/index/`` cannot be written, the index lives in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pytest_iterbench.results.document import RECORD_INDENT, iter_lines, record_line
from pytest_iterbench.results.journal import RecordLine, record_problem
from pytest_iterbench.results.records import session_of

INDEX_FILE = "results.sqlite"
FORMAT = "2"
FINGERPRINT_BYTES = 4096
#: Rows indexed per transaction.
BATCH = 20_000
#: Rejected lines named one by one in warnings; the rest are counted.
WARN_LINES = 10
#: (iteration, metric, session, config hash of its last record, how many finite values it holds)
SessionSummary = tuple[str, str, str, str | None, int]
#: (session, config hash, value) of one record
ValueRow = tuple[str, str | None, float | None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    offset INTEGER PRIMARY KEY, length INTEGER, line INTEGER, record_id TEXT,
    run_id TEXT, session_id TEXT, iteration_id TEXT, metric_id TEXT, config_hash TEXT,
    status TEXT, value REAL, repeat INTEGER, executed_at TEXT);
CREATE TABLE IF NOT EXISTS rejected (line INTEGER PRIMARY KEY, problem TEXT);
CREATE TABLE IF NOT EXISTS kept (record_id TEXT PRIMARY KEY, line BLOB);
CREATE TABLE IF NOT EXISTS kept_dictionary (data BLOB);
CREATE INDEX IF NOT EXISTS by_pair ON records (run_id, iteration_id, metric_id, session_id, offset);
CREATE INDEX IF NOT EXISTS by_session ON records (run_id, session_id);
CREATE INDEX IF NOT EXISTS by_iteration ON records (iteration_id, offset);
"""


class StaleIndex(Exception):
    """A record read through the index is not the one the index says (the file was rewritten)."""


class ResultsIndex:
    """Rows of ``results.json``'s records; open with :meth:`open` (brings it up to date)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        results: Path,
        appended: Mapping[int, RecordLine] | None = None,
    ) -> None:
        self._db = connection
        self.results = results
        #: Lines this process appended, by offset: a line that still reads the same is not parsed again.
        self._appended: Mapping[int, RecordLine] = appended or {}
        self.warnings: list[str] = []
        #: Records the index held that a rewritten file lacks, in their old order.
        self.lost: list[dict[str, Any]] = []
        row = connection.execute("SELECT data FROM kept_dictionary").fetchone()
        #: The first record line kept: the zlib dictionary of every copy (records repeat their
        #: environment, so a copy costs about 7% of its line instead of 54%).
        self._zdict: bytes | None = row[0] if row else None

    @classmethod
    def open(
        cls, folder: Path, results: Path, appended: Mapping[int, RecordLine] | None = None
    ) -> ResultsIndex:
        """The index in ``folder`` of ``results``, refreshed; call under the results lock.

        ``appended``: lines the caller appended, by byte offset, with their
        records (:attr:`ResultsStore._appended`); where the file holds exactly
        that line at that offset, its record is taken instead of parsing the line.
        """
        try:
            folder.mkdir(parents=True, exist_ok=True)
            index = cls(_connect(folder / INDEX_FILE), results, appended)
            index.refresh()
        except sqlite3.DatabaseError:  # unwritable, or damaged: derived data, so start afresh
            (folder / INDEX_FILE).unlink(missing_ok=True)
            try:
                index = cls(_connect(folder / INDEX_FILE), results, appended)
                index.refresh()
            except sqlite3.DatabaseError:
                index = cls(_connect(Path(":memory:")), results, appended)
                index.refresh()
        except OSError:
            index = cls(_connect(Path(":memory:")), results, appended)
            index.refresh()
        index.warnings = index._rejected_warnings()
        return index

    def __enter__(self) -> ResultsIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- keeping up with the file -------------------------------------------------------------

    def refresh(self) -> None:
        """Index what the file gained since last time; rebuild if it changed underneath."""
        try:
            fd = os.open(self.results, os.O_RDONLY)
        except FileNotFoundError:
            self._reset(None)
            with self._db:
                self._db.execute("DELETE FROM kept")
                self._db.execute("DELETE FROM kept_dictionary")
            self._zdict = None
            return
        try:
            stat = os.fstat(fd)
            identity = f"{stat.st_dev}:{stat.st_ino}"
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            end = int(meta.get("end", -1))
            current = (
                meta.get("format") == FORMAT
                and meta.get("file") == identity
                and 0 <= end <= stat.st_size
                and meta.get("fingerprint") == _fingerprint(fd, end)
            )
            if not current:
                self._reset(identity)
                meta = {"end": "0", "line": "0"}
            self._index(fd, int(meta["end"]), int(meta["line"]), stat.st_size)
            self.lost = self._lost() if not current else []
        finally:
            os.close(fd)

    def _lost(self) -> list[dict[str, Any]]:
        """The kept records whose ids the file no longer holds (after a rebuild only)."""
        present = {rid for (rid,) in self._db.execute("SELECT record_id FROM records")}
        rows = self._db.execute("SELECT record_id, line FROM kept ORDER BY rowid")
        return [json.loads(self._inflate(line)) for rid, line in rows if rid not in present]

    def _deflate(self, line: bytes) -> bytes:
        if self._zdict is None:
            self._zdict = line
            self._db.execute("INSERT INTO kept_dictionary VALUES (?)", (line,))
        compressor = zlib.compressobj(1, zdict=self._zdict)
        return compressor.compress(line) + compressor.flush()

    def _inflate(self, data: bytes) -> bytes:
        assert self._zdict is not None  # set with the first copy kept
        decompressor = zlib.decompressobj(zdict=self._zdict)
        return decompressor.decompress(data) + decompressor.flush()

    def mark_stale(self) -> None:
        """Make the next :meth:`refresh` rebuild (and look for lost records again)."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('file', '')")

    def rebuild(self) -> None:
        self._reset(None)
        self.refresh()

    def _reset(self, identity: str | None) -> None:
        with self._db:
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM rejected")
            self._db.execute("DELETE FROM meta")
            self._db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("format", FORMAT), ("file", identity or ""), ("end", "0"), ("line", "0")],
            )

    def _index(self, fd: int, start: int, line: int, size: int) -> None:
        """Index the complete record lines in [start, size); remember where the last one ends."""
        rows: list[tuple[Any, ...]] = []
        rejected: list[tuple[int, str]] = []
        kept: list[tuple[str, bytes]] = []
        end = start
        for offset, text in iter_lines(fd, start, size):
            line += 1
            stripped = text.strip()
            if not stripped.startswith(b"{") or stripped == b"{":
                continue  # the layout's own lines, or the rest of a line indexed before
            record = self._parsed(offset, text)
            problem = "not a record line" if record is None else record_problem(record)
            if record is None or problem is not None:
                rejected.append((line, problem or "not a record line"))
                continue
            length = len(text.rstrip(b",\r"))
            rows.append(_row(offset, length, line, record))
            if isinstance(record.get("record_id"), str):
                kept.append((record["record_id"], self._deflate(text[:length].strip())))
            end = offset + length
            if len(rows) >= BATCH:  # bounded memory: commit what is indexed so far
                self._commit(fd, rows, rejected, start, end, line, kept)
                rows, rejected, kept, start = [], [], [], end
        self._commit(fd, rows, rejected, start, end, line, kept)

    def _commit(
        self,
        fd: int,
        rows: list[tuple[Any, ...]],
        rejected: list[tuple[int, str]],
        start: int,
        end: int,
        line: int,
        kept: list[tuple[str, bytes]],
    ) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            self._db.executemany("INSERT OR IGNORE INTO kept VALUES (?, ?)", kept)
            self._db.executemany("INSERT OR REPLACE INTO rejected VALUES (?, ?)", rejected)
            if end > start:
                last_line = line if not rows else rows[-1][2]
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [
                        ("end", str(end)),
                        ("line", str(last_line - 1)),
                        ("fingerprint", _fingerprint(fd, end)),
                    ],
                )
            elif start == 0:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (_fingerprint(fd, 0),)
                )

    def _rejected_warnings(self) -> list[str]:
        rows = self._db.execute("SELECT line, problem FROM rejected ORDER BY line").fetchall()
        warnings = [
            f"{self.results}: line {line}: not a valid record ({problem}); skipped"
            for line, problem in rows[:WARN_LINES]
        ]
        if len(rows) > WARN_LINES:
            warnings.append(f"{self.results}: {len(rows) - WARN_LINES} more invalid lines skipped")
        return warnings

    # -- reading ---------------------------------------------------------------------------

    def sessions(self, run_id: str) -> list[str]:
        """The sessions of ``run_id`` with records, oldest first."""
        rows = self._db.execute(
            "SELECT DISTINCT session_id FROM records WHERE run_id = ? ORDER BY session_id",
            (run_id,),
        )
        return [session for (session,) in rows]

    def count(self, run_id: str) -> int:
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM records WHERE run_id = ?", (run_id,)
        ).fetchone()
        return int(count)

    def focus_sessions(self, run_id: str, until: str | None) -> dict[tuple[str, str], str]:
        """Each (iteration, metric) of the run and its latest session up to ``until``."""
        rows = self._db.execute(
            "SELECT iteration_id, metric_id, MAX(session_id) FROM records"
            " WHERE run_id = ? AND session_id <= ? GROUP BY iteration_id, metric_id",
            (run_id, until if until is not None else "\U0010ffff"),
        )
        return {(iteration, metric): session for iteration, metric, session in rows}

    def session_summaries(self, run_id: str, until: str | None) -> Iterator[SessionSummary]:
        """One row per (iteration, metric, session) of the run up to ``until``, by pair, sessions in order.

        Aggregated by SQLite (a session's config hash is its last record's, in file
        order), so a pair with thousands of sessions costs Python one row each, not
        one per record.
        """
        # SQLite takes a bare column from the row that holds the query's only MAX().
        rows = self._db.execute(
            "SELECT iteration_id, metric_id, session_id, MAX(offset), config_hash,"
            " COUNT(CASE WHEN abs(value) <= 1.7976931348623157e308 THEN 1 END)"  # finite values
            " FROM records WHERE run_id = ? AND session_id <= ?"
            " GROUP BY iteration_id, metric_id, session_id"
            " ORDER BY iteration_id, metric_id, session_id",
            (run_id, until if until is not None else "\U0010ffff"),
        )
        for iteration, metric, session, _, config_hash, values in rows:
            yield iteration, metric, session, config_hash, values

    def session_values(
        self, run_id: str, iteration_id: str, metric_id: str, sessions: Iterable[str]
    ) -> Iterator[ValueRow]:
        """(session, config hash, value) of each record of the pair in ``sessions``: by session, in file order."""
        wanted = sorted(set(sessions))
        if not wanted:
            return
        yield from self._db.execute(
            session_values_query(len(wanted)), (run_id, iteration_id, metric_id, *wanted)
        )

    def run_records(
        self, run_id: str, sessions: Iterable[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The full records of ``run_id`` (of ``sessions`` only, if given), in file order."""
        if sessions is None:
            query = "SELECT offset, length, record_id FROM records WHERE run_id = ? ORDER BY offset"
            rows = self._db.execute(query, (run_id,)).fetchall()
        else:
            wanted = sorted(set(sessions))
            marks = ",".join("?" * len(wanted))
            query = (
                "SELECT offset, length, record_id FROM records"
                f" WHERE run_id = ? AND session_id IN ({marks}) ORDER BY offset"
            )
            rows = self._db.execute(query, (run_id, *wanted)).fetchall()
        yield from self._records_at(rows)

    def latest_per_iteration(self) -> Iterator[dict[str, Any]]:
        """The latest record (in file order) of every iteration of any run."""
        # A skip-scan of the by_iteration index: each distinct iteration, then its last
        # offset, O(iterations * log records). A GROUP BY with bare columns would visit
        # every row of the table (seconds at a million records).
        rows = self._db.execute(
            """
            WITH RECURSIVE iterations(id) AS (
                SELECT MIN(iteration_id) FROM records
                UNION ALL
                SELECT (SELECT MIN(iteration_id) FROM records WHERE iteration_id > id)
                FROM iterations WHERE id IS NOT NULL
            )
            SELECT r.offset, r.length, r.record_id
            FROM iterations
            JOIN records AS r ON r.offset = (
                SELECT MAX(offset) FROM records WHERE iteration_id = iterations.id
            )
            ORDER BY r.offset
            """
        ).fetchall()
        yield from self._records_at(rows)

    def _parsed(self, offset: int, text: bytes) -> dict[str, Any] | None:
        """The record of the line ``text`` at ``offset``: the one appended there if the line holds its bytes, else parsed."""
        appended = self._appended.get(offset)
        if appended is not None:
            body = text[:-1] if text.endswith(b",") else text
            if body == RECORD_INDENT + appended[0]:
                return appended[1]
        return record_line(text)

    def _records_at(self, rows: list[tuple[int, int, str | None]]) -> Iterator[dict[str, Any]]:
        if not rows:  # nothing to read, and results.json may not exist yet
            return
        with self.results.open("rb") as handle:
            for offset, length, record_id in rows:
                handle.seek(offset)
                record = self._parsed(offset, handle.read(length))
                if record is None or record.get("record_id") != record_id:
                    raise StaleIndex(
                        f"{self.results}: byte {offset}: not the record the index holds"
                    )
                yield record


def session_values_query(sessions: int) -> str:
    """The query of :meth:`ResultsIndex.session_values` for that many sessions.

    Ordered as the by_pair index is: ``ORDER BY offset`` alone makes SQLite walk
    every record of the iteration in every run (the by_iteration index), about
    90 ms a pair at a million records.
    """
    marks = ",".join("?" * sessions)
    return (
        "SELECT session_id, config_hash, value FROM records"
        f" WHERE run_id = ? AND iteration_id = ? AND metric_id = ? AND session_id IN ({marks})"
        " ORDER BY session_id, offset"
    )


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path))
    connection.execute("PRAGMA synchronous = OFF")  # derived data: rebuilt if a crash damages it
    connection.execute("PRAGMA journal_mode = WAL")
    connection.executescript(_SCHEMA)
    return connection


def _fingerprint(fd: int, end: int) -> str:
    """A hash of the first and last :data:`FINGERPRINT_BYTES` of [0, end)."""
    digest = hashlib.sha256(str(end).encode())
    digest.update(os.pread(fd, min(end, FINGERPRINT_BYTES), 0))
    tail_start = max(0, end - FINGERPRINT_BYTES)
    digest.update(os.pread(fd, end - tail_start, tail_start))
    return digest.hexdigest()


def _row(offset: int, length: int, line: int, record: dict[str, Any]) -> tuple[Any, ...]:
    value = record.get("value")
    repeat = record.get("repeat")
    return (
        offset,
        length,
        line,
        record.get("record_id") if isinstance(record.get("record_id"), str) else None,
        record["run_id"],
        session_of(record),
        record["iteration_id"],
        record["metric_id"],
        _text(record.get("config_hash")),
        _text(record.get("status")) or "passed",
        float(value) if value is not None else None,
        repeat if isinstance(repeat, int) else 0,
        _text(record.get("executed_at")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
