"""The session end parses a record once: the fold's lines go to the file as they are, and the index and the report take the fold's records.

Issue 16, point 3: the session end does not write its records out again, nor
parse the lines it just appended to ``results.json``; but a byte changed on
disk in between is read from the disk, never from memory.
"""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.results import document
from pytest_iterbench.results import index as index_module
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


def session_fold(store: ResultsStore, records: list[dict]) -> int:
    journal = store.open_journal("20260101T000000Z-0000abcd")
    for r in records:
        journal.append(r)
    journal.close(keep_lock=True)
    try:
        return store.fold([journal.path], fresh=True)
    finally:
        journal.release()


def file_records(store: ResultsStore) -> list[dict]:
    return json.loads(store.path.read_text(encoding="utf-8"))["results"]


def refuse(*args, **kwargs):
    raise AssertionError("wrote out or parsed again a record the fold holds")


def test_the_fold_appends_the_journals_lines_and_the_index_takes_its_records(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    records = [record(n) for n in range(5)]
    monkeypatch.setattr(document, "dump_record", refuse)
    journal = store.open_journal("20260101T000000Z-0000abcd")
    for r in records:
        journal.append(r, json.dumps(r, ensure_ascii=False))
    journal.close(keep_lock=True)
    lines = journal.path.read_bytes().splitlines()
    store.fold([journal.path], fresh=True)
    journal.release()
    monkeypatch.setattr(index_module, "record_line", refuse)

    assert list(store.run_records("run-001")) == records
    monkeypatch.undo()
    assert file_records(store) == records
    assert store.path.read_bytes().count(b"\n    " + lines[2] + b",\n") == 1


def test_a_results_line_changed_after_the_append_is_read_from_the_file(tmp_path):
    store = ResultsStore(tmp_path)
    session_fold(store, [record(1), record(2), record(3)])
    data = store.path.read_bytes()
    store.path.write_bytes(data.replace(b'"value": 0.2', b'"value": 0.7'))

    values = [r["value"] for r in store.run_records("run-001")]

    assert values == [0.1, 0.7, 0.3]


def test_once_forgotten_the_records_are_read_from_the_file(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    session_fold(store, [record(1)])
    store.forget_appended()
    monkeypatch.setattr(index_module, "record_line", refuse)

    with pytest.raises(AssertionError, match="parsed again"):
        list(store.run_records("run-001"))


def test_a_compact_journal_line_is_appended_as_it_is_and_never_twice(tmp_path):
    """A line without the usual spaces still names its record id where recovery looks for it."""
    store = ResultsStore(tmp_path)
    store.journal_dir.mkdir(parents=True)
    line = json.dumps(record(1), separators=(",", ":"))
    for name in ("a", "b"):  # the same record in two orphan journals, folded one after the other
        (store.journal_dir / f"{name}.jsonl").write_text(line + "\n", encoding="utf-8")
        store.recover()

    assert file_records(store) == [record(1)]
    assert f"\n    {line}\n".encode() in store.path.read_bytes()


@pytest.mark.parametrize("earlier", [0, 2])
def test_the_offsets_remembered_are_where_the_lines_are(tmp_path, earlier):
    """With and without records before them: every remembered offset starts its line in the file."""
    store = ResultsStore(tmp_path)
    if earlier:
        session_fold(store, [record(10 + n) for n in range(earlier)])
        store = ResultsStore(tmp_path)
    session_fold(store, [record(1), record(2)])
    data = store.path.read_bytes()
    remembered = store._appended
    assert len(remembered) == 2
    for offset, (line, r) in remembered.items():
        assert data[offset : offset + 4 + len(line)] == b"    " + line
        assert json.loads(line) == r
