"""``results.json``: append-only, valid JSON at every moment, and nothing lost.

Each session appends its records, as they arrive, to its own journal
(``.iterbench/journal/<session>.jsonl``), holding a lock on it while it lives.
At the end of the session the journal is folded into ``results.json``: under a
cross-process lock, read the file, add the records it does not yet hold (by
``record_id``), write a new file and rename it over the old one. A session
killed with ``kill -9`` leaves its journal behind with the lock released; the
next session in the workspace (or ``iterbench recover``) folds it in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.errors import IterbenchError

RESULTS_SCHEMA_REF = "schemas/results-schema.json"
LOCK_TIMEOUT = 120.0


def dump_results(
    records: Iterable[dict[str, Any]], schema_ref: str | None = RESULTS_SCHEMA_REF
) -> str:
    """Serialise results with one record per line, so appends show as added lines in a diff."""
    lines = [json.dumps(record, ensure_ascii=False, allow_nan=False) for record in records]
    head = f'  "$schema": {json.dumps(schema_ref)},\n' if schema_ref else ""
    body = ",\n".join(f"    {line}" for line in lines)
    return "{\n" + head + '  "results": [\n' + body + ("\n" if lines else "") + "  ]\n}\n"


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Complete records of a journal; a line cut short by a kill is skipped."""
    with path.open("rb") as handle:
        for line in handle:
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(record, dict) and "record_id" in record:
                yield record


class Journal:
    """One session's append-only journal; the lock on it says the session is alive."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = FileLock(path.with_name(path.name + ".lock"))
        self._lock.acquire(timeout=0)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.count = 0

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line; once written, a kill of this process cannot lose it."""
        os.write(
            self._fd, (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode()
        )
        self.count += 1

    def close(self) -> None:
        os.close(self._fd)
        self._lock.release()


class ResultsStore:
    """The workspace's ``results.json`` and the journals waiting to be folded into it."""

    def __init__(self, workspace_root: Path) -> None:
        self.path = workspace_root / "results.json"
        self.journal_dir = workspace_root / ".iterbench" / "journal"
        self._lock_path = workspace_root / ".iterbench" / "results.lock"

    def read(self) -> list[dict[str, Any]]:
        """Every record in ``results.json`` (none when the file does not exist yet)."""
        return self._read_document()[1]

    def _read_document(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, []
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IterbenchError(
                f"{self.path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}; it is left untouched, and new results stay in {self.journal_dir} until it is repaired"
            ) from exc
        if not isinstance(document, dict) or not isinstance(document.get("results"), list):
            raise IterbenchError(
                f"{self.path}: expected an object with a 'results' list; it is left untouched, and new results stay in {self.journal_dir}"
            )
        return document, document["results"]

    def open_journal(self, session_id: str) -> Journal:
        return Journal(self.journal_dir / f"{session_id}.jsonl")

    def fold(self, journals: Iterable[Path]) -> int:
        """Append the journals' records that ``results.json`` lacks; remove the journals. Returns the count added."""
        journals = list(journals)
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(self._lock_path, timeout=LOCK_TIMEOUT):
                document, records = self._read_document()
                known = {record.get("record_id") for record in records}
                added = []
                for journal in journals:
                    for record in read_journal(journal):
                        if record["record_id"] not in known:
                            known.add(record["record_id"])
                            added.append(record)
                if added or not self.path.exists():
                    write_text_atomically(
                        self.path,
                        dump_results(
                            [*records, *added], document.get("$schema", RESULTS_SCHEMA_REF)
                        ),
                    )
                for journal in journals:
                    journal.unlink(missing_ok=True)
                    journal.with_name(journal.name + ".lock").unlink(missing_ok=True)
        except Timeout as exc:
            raise IterbenchError(
                f"{self._lock_path}: another session held the results lock for {LOCK_TIMEOUT:g} s; new results stay in {self.journal_dir}"
            ) from exc
        return len(added)

    def orphan_journals(self) -> list[Path]:
        """Journals left by sessions that died (their lock is free)."""
        orphans = []
        for journal in sorted(self.journal_dir.glob("*.jsonl")):
            lock = FileLock(journal.with_name(journal.name + ".lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # a live session owns it
            lock.release()
            orphans.append(journal)
        return orphans

    def recover(self) -> int:
        """Fold the journals of dead sessions into ``results.json``; the count of records recovered."""
        orphans = self.orphan_journals()
        return self.fold(orphans) if orphans else 0
