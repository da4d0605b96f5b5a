"""``results.json``: append-only, valid JSON whenever read, nothing lost, appends that cost what they add.

Each session appends its records, as they arrive, to its own journal
(:mod:`pytest_iterbench.results.journal`). At the end of the session the journal
is folded into ``results.json``: under a cross-process lock, the file's last
few KB are checked, the new record lines replace its closing with one write,
the file is flushed to disk, and only then is the journal removed. History is
never read or rewritten to append. A session killed with ``kill -9`` leaves its
journal behind with its lock free; the next session in the workspace (or
``iterbench recover``) folds it in, skipping the records the file already
holds. Reading goes through :class:`~pytest_iterbench.results.index.ResultsIndex`.
``docs/results.md`` states the crash-safety argument.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.results import document
from pytest_iterbench.results.document import RESULTS_SCHEMA_REF, Tail, dump_results
from pytest_iterbench.results.index import INDEX_FILE, ResultsIndex
from pytest_iterbench.results.journal import (
    Journal,
    RecordLine,
    lock_path,
    read_journal,
    read_journal_lines,
    set_aside,
    spill_dir,
)
from pytest_iterbench.workspace.paths import WorkspacePaths

__all__ = ["RESULTS_SCHEMA_REF", "Journal", "ResultsStore", "dump_results", "read_journal"]

LOCK_TIMEOUT = 120.0
#: Orphan journals locked and folded together (each holds a file descriptor).
ORPHAN_BATCH = 200
#: A lock file without its journal, older than this, was left by a kill.
STALE_LOCK_SECONDS = 60.0
#: Above this size a file in another layout is not parsed whole to be re-laid.
RELAYOUT_LIMIT = 256 << 20
_RECORD_ID = re.compile(rb'"record_id":\s*"((?:[^"\\]|\\.)*)"')


class ResultsStore:
    """The workspace's ``results.json``, the journals waiting to be folded into it, and its index.

    >>> store = ResultsStore(Path("."))  # doctest: +SKIP
    >>> store.fold([store.journal_dir / "S1.jsonl"])  # doctest: +SKIP
    3
    >>> [r["metric_id"] for r in store.run_records("run-001", sessions=["S1"])]  # doctest: +SKIP
    ['accuracy', 'f1_macro', 'time']
    """

    def __init__(self, workspace_root: Path) -> None:
        paths = WorkspacePaths(workspace_root)
        self.path = paths.results
        self.journal_dir = paths.journal_dir
        self._lock_path = paths.results_lock
        self._index_dir = paths.index_dir
        #: What went wrong without stopping anything (rejected lines, repairs), for the user.
        self.warnings: list[str] = []
        #: The lines of this object's last append, by byte offset: the index takes their
        #: records as they are, once it has checked that the file holds those bytes there.
        self._appended: dict[int, RecordLine] = {}

    # -- writing -------------------------------------------------------------------------

    def open_journal(self, session_id: str) -> Journal:
        return Journal(self.journal_dir / f"{session_id}.jsonl")

    def fold(self, journals: Iterable[Path], *, fresh: bool = False) -> int:
        """Append the journals' records that ``results.json`` lacks, then remove the journals.

        ``fresh`` says the journals are this process's own, whose record ids are
        new: the file is not searched for them. Returns the count appended.
        Raises IterbenchError when the file cannot take them; they stay in the journals.
        """
        journals = list(journals)
        with self._results_lock():
            fd = self._open_for_append()
            try:
                records = self._collect(journals)
                if not fresh and records:
                    known = existing_ids(fd, {r["record_id"] for _, r in records})
                    records = [(line, r) for line, r in records if r["record_id"] not in known]
                self._append(fd, records, journals)
            finally:
                os.close(fd)
            for journal in journals:
                journal.unlink(missing_ok=True)
                lock_path(journal).unlink(missing_ok=True)
            self._clean_partials()
        return len(records)

    def _collect(self, journals: Sequence[Path]) -> list[RecordLine]:
        """The valid records of the journals with their lines, each id once; bad lines set aside with a warning."""
        seen: set[str] = set()
        records = []
        for journal in journals:
            try:
                reading = read_journal_lines(journal)
            except FileNotFoundError:
                continue  # folded by another recovery meanwhile
            self.warnings += set_aside(journal, reading)
            for line, record in reading.records:
                if record["record_id"] not in seen:
                    seen.add(record["record_id"])
                    records.append((line, record))
        return records

    def _append(self, fd: int, records: list[RecordLine], journals: Sequence[Path]) -> None:
        """Append the record lines; remember where each went, for the reads that follow."""
        if not records:
            return
        tail = document.find_tail(fd)
        assert tail is not None  # _open_for_append left the file closed properly
        lines = [line for line, _ in records]
        data = tail.append_bytes(lines)
        try:
            written = os.pwrite(fd, data, tail.offset)
            if written != len(data):
                raise OSError(f"wrote {written} of {len(data)} bytes")
            os.fsync(fd)
        except OSError as exc:
            self._undo(fd, tail)
            kept = ", ".join(str(j) for j in journals) or "memory"
            raise IterbenchError(
                f"{self.path}: could not append {len(records)} records ({exc}); they are kept in {kept} "
                "and folded in by the next session or `iterbench recover` once the file can be written"
            ) from exc
        self._appended = dict(zip(tail.line_offsets(lines), records, strict=True))

    def forget_appended(self) -> None:
        """Drop the records of the last append, kept for the reads that follow it (a session's report)."""
        self._appended = {}

    def _undo(self, fd: int, tail: Tail) -> None:
        """Put the closing back where it was, after a failed append (best effort)."""
        closing = document.CLOSING[1:] if tail.empty else document.CLOSING
        try:
            os.pwrite(fd, closing, tail.offset)
            os.ftruncate(fd, tail.offset + len(closing))
            os.fsync(fd)
        except OSError:
            pass  # the next session's repair cuts the tail back

    def _open_for_append(self) -> int:
        """A descriptor on a properly closed ``results.json``: created, repaired or re-laid if need be."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            self._write_whole([])
            return self._open_for_append()
        except OSError as exc:
            raise self._refusal(f"cannot be opened for writing ({exc})") from exc
        try:
            if document.find_tail(fd) is None:
                self._mend(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _mend(self, fd: int) -> None:
        """Close a cut tail again, or re-lay a valid document of another layout; else refuse."""
        repair = document.repair_tail(fd)
        if repair is not None:
            self._keep_dropped(repair.dropped)
            self.warnings.append(
                f"{self.path}: its end was cut short (an interrupted append); closed again after its last "
                f"complete record ({len(repair.dropped)} bytes dropped, still in the journals)"
            )
            return
        size = os.fstat(fd).st_size
        if size > RELAYOUT_LIMIT:
            raise self._refusal("is not in the one-record-per-line layout")
        schema_ref, records = self._read_document()
        self._write_whole(records, schema_ref, as_read=True)
        fresh = os.open(self.path, os.O_RDWR)
        os.dup2(fresh, fd)
        os.close(fresh)

    def _write_whole(
        self,
        records: list[dict[str, Any]],
        schema_ref: Any = RESULTS_SCHEMA_REF,
        *,
        as_read: bool = False,
    ) -> None:
        try:
            write_text_atomically(self.path, dump_results(records, schema_ref, as_read=as_read))
        except OSError as exc:
            raise self._refusal(f"cannot be written ({exc})") from exc

    def _keep_dropped(self, dropped: bytes) -> None:
        if not dropped.strip(b"\0 \n"):
            return
        folder = self._index_dir.parent / "repaired"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"results-tail-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.bin").write_bytes(
            dropped
        )

    def _refusal(self, why: str) -> IterbenchError:
        return IterbenchError(
            f"{self.path}: {why}; it is left untouched, and new results stay in {self.journal_dir} until it is repaired"
        )

    def _clean_partials(self) -> None:
        """Remove the partial files of rewrites that a kill interrupted (we hold the results lock)."""
        for partial in self.path.parent.glob(f".{self.path.name}.*.partial"):
            partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _results_lock(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self._lock_path)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout as exc:
            raise IterbenchError(
                f"{self._lock_path}: another session held the results lock for {LOCK_TIMEOUT:g} s; new results stay in {self.journal_dir}"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    # -- recovering ----------------------------------------------------------------------

    def orphan_journals(self) -> list[Path]:
        """Journals left by sessions that died (their lock is free)."""
        orphans = []
        for journal in sorted(self.journal_dir.glob("*.jsonl")):
            lock = FileLock(lock_path(journal))
            try:
                lock.acquire(timeout=0)
            except (Timeout, OSError):
                continue  # a live session (or another recovery) holds it
            lock.release()
            orphans.append(journal)
        return orphans

    def recover(self) -> int:
        """Fold the journals of dead sessions into ``results.json``; the count of records recovered.

        Each orphan stays locked while it is folded, so recoveries running at
        once never fold one journal twice; a journal another one removed is skipped.
        """
        journals = [
            *(sorted(self.journal_dir.glob("*.jsonl")) if self.journal_dir.is_dir() else []),
            *self.spilled_journals(),
        ]
        count = 0
        for start in range(0, len(journals), ORPHAN_BATCH):
            count += self._recover_batch(journals[start : start + ORPHAN_BATCH])
        self._clean_stale_locks()
        with contextlib.suppress(OSError):  # emptied by the fold; another session may spill again
            spill_dir(self.journal_dir).rmdir()
        if journals or self.path.exists():
            with self._results_lock():
                self._clean_partials()
        self._restore_lost()
        return count

    def _restore_lost(self) -> None:
        """Bring the index up to date, which restores what a rewrite of the file lost."""
        if not (self.path.is_file() and (self._index_dir / INDEX_FILE).is_file()):
            return  # nothing indexed yet, so nothing known to be lost
        try:
            self.index().close()
        except IterbenchError as exc:
            self.warnings.append(str(exc))

    def spilled_journals(self) -> list[Path]:
        """Records that sessions of this workspace spilled outside it when its disk was full."""
        folder = spill_dir(self.journal_dir)
        return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []

    def _recover_batch(self, journals: Sequence[Path]) -> int:
        with ExitStack() as stack:
            held = []
            for journal in journals:
                lock = FileLock(lock_path(journal))
                try:
                    lock.acquire(timeout=0)
                except (Timeout, OSError):
                    continue
                stack.callback(lock.release)
                if journal.exists():
                    held.append(journal)
            return self.fold(held) if held else 0

    def _clean_stale_locks(self) -> None:
        """Remove lock files whose journal is gone, left by kills (never one a session holds)."""
        if not self.journal_dir.is_dir():
            return
        now = time.time()
        for lock_file in self.journal_dir.glob("*.jsonl.lock"):
            journal = lock_file.with_suffix("")
            try:
                if journal.exists() or now - lock_file.stat().st_mtime < STALE_LOCK_SECONDS:
                    continue
            except FileNotFoundError:
                continue
            lock = FileLock(lock_file)
            try:
                lock.acquire(timeout=0)
            except (Timeout, OSError):
                continue
            try:
                if not journal.exists():
                    lock_file.unlink(missing_ok=True)
            finally:
                lock.release()

    # -- reading -------------------------------------------------------------------------

    def read(self) -> list[dict[str, Any]]:
        """Every record in ``results.json`` (none when the file does not exist yet), parsed whole.

        Never a torn document: the file is read without a lock first, and when
        that read does not parse (an append was in flight: Linux does not make a
        read atomic against a concurrent write), it is read again under the
        results lock, which every append holds until its bytes are on disk.
        A file that still does not parse is broken, and IterbenchError says where.
        A file whose last append was cut short by a kill, and is not repaired
        yet, is read up to its last complete record, with a warning.
        For small files, tests and outside tools; the report and the gate read
        through :meth:`index`.
        """
        try:
            return self._read_document()[1]
        except IterbenchError:
            if not self.path.is_file():
                raise
        with self._results_lock():
            try:
                return self._read_document()[1]
            except IterbenchError:
                records = self._read_cut()
                if records is None:
                    raise
                return records

    def _read_cut(self) -> list[dict[str, Any]] | None:
        """The records of a file with a cut tail, up to the last complete one; None if it is not that."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            closed = document.closed_prefix(fd)
        finally:
            os.close(fd)
        if closed is None:
            return None
        try:
            records = json.loads(closed)["results"]
        except (ValueError, KeyError, TypeError):
            return None
        self.warnings.append(
            f"{self.path}: its end was cut short (an interrupted append); read up to its last complete "
            "record; the next session or `iterbench recover` closes it again"
        )
        return records if isinstance(records, list) else None

    def _read_document(self) -> tuple[Any, list[dict[str, Any]]]:
        """The file's ``$schema`` and records, as they are now (no lock: callers hold it or retry)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RESULTS_SCHEMA_REF, []
        except (OSError, UnicodeDecodeError) as exc:
            raise self._refusal(f"cannot be read ({exc})") from exc
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IterbenchError(
                f"{self.path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}; it is left untouched, and new results stay in {self.journal_dir} until it is repaired"
            ) from exc
        if not isinstance(parsed, dict) or not isinstance(parsed.get("results"), list):
            raise IterbenchError(
                f"{self.path}: expected an object with a 'results' list; it is left untouched, and new results stay in {self.journal_dir}"
            )
        return parsed.get("$schema", RESULTS_SCHEMA_REF), parsed["results"]

    def index(self) -> ResultsIndex:
        """The index of ``results.json``, brought up to date with the file under the results lock.

        A cut tail is closed again first (that needs the file writable); a file
        that reads well is indexed as it is, even where it cannot be written.
        """
        with self._results_lock():
            if not self._closed_properly():
                os.close(self._open_for_append())
            index = ResultsIndex.open(self._index_dir, self.path, self._appended)
            if index.lost:
                self._restore(index)
        self.warnings += index.warnings
        return index

    def _restore(self, index: ResultsIndex) -> None:
        """Append the records a rewrite of the file lost, from the index's copies (under the lock)."""
        lost = index.lost
        try:
            fd = self._open_for_append()
            try:
                self._append(fd, [(document.dump_record(r).encode(), r) for r in lost], [])
            finally:
                os.close(fd)
        except IterbenchError as exc:
            index.mark_stale()  # the copies stay: the next reader tries again
            self.warnings.append(f"{len(lost)} records lost by a rewrite not restored yet: {exc}")
            return
        index.refresh()
        self.warnings.append(
            f"{self.path}: was rewritten and had lost {len(lost)} records that it held before; "
            "restored from the index (.iterbench/index), appended at its end"
        )

    def _closed_properly(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return True
        except OSError as exc:
            raise self._refusal(f"cannot be read ({exc})") from exc
        try:
            return document.find_tail(fd) is not None
        finally:
            os.close(fd)

    def run_records(
        self, run_id: str, sessions: Iterable[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The full records of ``run_id`` (of ``sessions`` only, if given), in file order, streamed."""
        with self.index() as index:
            yield from index.run_records(run_id, sessions)

    def sessions(self, run_id: str) -> list[str]:
        """The sessions of ``run_id`` that have records, oldest first."""
        with self.index() as index:
            return index.sessions(run_id)

    def latest_session(self, run_id: str) -> str | None:
        sessions = self.sessions(run_id)
        return sessions[-1] if sessions else None


def existing_ids(fd: int, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` record ids the file holds, by one streaming pass over its lines."""
    found: set[str] = set()
    size = os.fstat(fd).st_size
    for _, line in document.iter_lines(fd, 0, size):
        match = _RECORD_ID.search(line, 0, 200)
        if match is None:
            continue
        record_id = match.group(1).decode("utf-8", errors="replace")
        if "\\" in record_id:
            record_id = json.loads(b'"' + match.group(1) + b'"')
        if record_id in wanted:
            found.add(record_id)
            if len(found) == len(wanted):
                break
    return found
