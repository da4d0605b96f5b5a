"""A session's fold takes the records it wrote from memory, and the files still win.

Issue 16, point 3: the session end does not parse its own journal again, nor
the lines it just appended to ``results.json``; but a byte changed on disk in
between is read from the disk, never from memory.
"""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.results import index as index_module
from pytest_iterbench.results import journal as journal_module
from pytest_iterbench.results.store import ResultsStore


def record(n: int) -> dict:
    return {
        "record_id": f"rec-{n}",
        "session_id": "20260101T000000Z-0000abcd",
        "run_id": "run-001",
        "iteration_id": f"v{n % 3}",
        "metric_id": "accuracy",
        "value": n / 10,
        "unit": "%",
        "status": "passed",
        "executed_at": "2026-01-01T00:00:00.000Z",
        "environment": {"platform": "linux", "python": "3.11"},
    }


def session_journal(store: ResultsStore, records: list[dict]):
    journal = store.open_journal("20260101T000000Z-0000abcd")
    for r in records:
        journal.append(r)
    journal.close(keep_lock=True)
    return journal


def fold(store: ResultsStore, journal) -> int:
    try:
        return store.fold([journal.path], fresh=True, written=journal.written)
    finally:
        journal.release()


def file_records(store: ResultsStore) -> list[dict]:
    return json.loads(store.path.read_text(encoding="utf-8"))["results"]


def refuse(*args, **kwargs):
    raise AssertionError("parsed a line this process wrote and the file still holds")


def test_the_fold_and_the_index_take_the_sessions_own_records_without_parsing(
    tmp_path, monkeypatch
):
    store = ResultsStore(tmp_path)
    records = [record(n) for n in range(5)]
    journal = session_journal(store, records)
    monkeypatch.setattr(journal_module, "parse_record", refuse)
    monkeypatch.setattr(index_module, "record_line", refuse)

    assert fold(store, journal) == 5
    assert list(store.run_records("run-001")) == records
    monkeypatch.undo()  # the file, parsed, holds the same
    assert file_records(store) == records
    assert not journal.path.exists()


def test_a_journal_changed_on_disk_is_folded_as_the_disk_has_it(tmp_path):
    store = ResultsStore(tmp_path)
    journal = session_journal(store, [record(1), record(2)])
    data = journal.path.read_bytes()
    journal.path.write_bytes(data.replace(b'"value": 0.2', b'"value": 0.9'))

    fold(store, journal)

    assert [r["value"] for r in file_records(store)] == [0.1, 0.9]


def test_a_results_line_changed_after_the_append_is_read_from_the_file(tmp_path):
    store = ResultsStore(tmp_path)
    fold(store, session_journal(store, [record(1), record(2), record(3)]))
    data = store.path.read_bytes()
    store.path.write_bytes(data.replace(b'"value": 0.2', b'"value": 0.7'))

    values = [r["value"] for r in store.run_records("run-001")]

    assert values == [0.1, 0.7, 0.3]


def test_past_its_memory_limit_a_journal_is_folded_from_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "MEMORY_LIMIT", 500)
    store = ResultsStore(tmp_path)
    records = [record(n) for n in range(5)]
    journal = session_journal(store, records)
    assert journal.written is None

    fold(store, journal)

    assert file_records(store) == records


@pytest.mark.parametrize("earlier", [0, 2])
def test_the_offsets_remembered_are_where_the_lines_are(tmp_path, earlier):
    """With and without records before them: every remembered offset starts its line in the file."""
    store = ResultsStore(tmp_path)
    if earlier:
        fold(store, session_journal(store, [record(10 + n) for n in range(earlier)]))
        store = ResultsStore(tmp_path)
    fold(store, session_journal(store, [record(1), record(2)]))
    data = store.path.read_bytes()
    remembered = store._appended
    assert len(remembered) == 2
    for offset, (line, r) in remembered.items():
        assert data[offset : offset + 4 + len(line)] == b"    " + line
        assert json.loads(line) == r
