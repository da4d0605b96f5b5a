"""The store appends in place, repairs a cut tail, and keeps its promises against bad input.

Issue 15 points 2, 3 and 6: a poisoned journal line or results line never blocks
a later session; recoveries racing each other never raise; a full or unwritable
results.json keeps the records in the journal. Issue 16 point 3: the session end
parses a record once (the fold's lines go to the file as they are, the index and
the report take the fold's records), and a byte changed on disk wins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.results import document
from pytest_iterbench.results import index as index_module
from pytest_iterbench.results.document import CLOSING, dump_results
from pytest_iterbench.results.store import ResultsStore


def record(n, **fields):
    return {
        "record_id": f"rec-{n}",
        "session_id": "20260101T000000Z-0000abcd",
        "run_id": "run-001",
        "iteration_id": f"v{n % 3}",
        "metric_id": "accuracy",
        "value": n / 10,
        "unit": "%",
        "status": "passed",
        "executed_at": f"2026-01-01T00:00:{n % 60:02d}.000Z",
        "environment": {"platform": "linux", "python": "3.11"},
        **fields,
    }


def journal(store, session, lines):
    store.journal_dir.mkdir(parents=True, exist_ok=True)
    path = store.journal_dir / f"{session}.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def ids(store):
    return [r.get("record_id") for r in json.loads(store.path.read_text())["results"]]


def test_an_append_keeps_every_earlier_byte_and_the_layout(tmp_path):
    store = ResultsStore(tmp_path)
    store.fold([journal(store, "s1", [json.dumps(record(1)), json.dumps(record(2))])])
    before = store.path.read_bytes()
    store.fold([journal(store, "s2", [json.dumps(record(3))])], fresh=True)
    after = store.path.read_bytes()
    assert after.startswith(before[: -len(CLOSING)])
    assert after == dump_results([record(1), record(2), record(3)]).encode()


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 20, -30, -8, -1])
def test_a_cut_append_is_closed_again_and_the_journal_refills_it(tmp_path, cut):
    store = ResultsStore(tmp_path)
    store.fold([journal(store, "s1", [json.dumps(record(1)), json.dumps(record(2))])])
    closed = store.path.read_bytes()
    lines = [json.dumps(record(3)), json.dumps(record(4))]
    appended = (
        closed[: -len(CLOSING)] + b",\n    " + b",\n    ".join(x.encode() for x in lines) + CLOSING
    )
    torn = appended[: len(closed) - len(CLOSING) + cut] if cut > 0 else appended[:cut]
    torn += closed[len(torn) :] if len(torn) < len(closed) else b""  # the old closing's remains
    store.path.write_bytes(torn)
    orphan = journal(store, "s2", lines)

    assert store.recover() in (0, 1, 2)
    assert ids(store) == ["rec-1", "rec-2", "rec-3", "rec-4"]
    assert not orphan.exists()


def test_a_corrupt_middle_is_never_rewritten_and_records_wait_in_the_journal(tmp_path):
    store = ResultsStore(tmp_path)
    store.path.write_text(
        '{\n  "results": [\n    {"run_id": "run-001", }\n  ]\n}', encoding="utf-8"
    )
    before = store.path.read_bytes()
    orphan = journal(store, "s1", [json.dumps(record(1))])
    with pytest.raises(IterbenchError, match=r"left untouched, and new results stay in"):
        store.recover()
    assert store.path.read_bytes() == before
    assert orphan.exists()


@pytest.mark.parametrize(
    "line",
    [
        '{"record_id": "x"}',
        json.dumps(record(9)).replace("0.9", "NaN"),
        json.dumps(record(9, record_id=7)),
        json.dumps({k: v for k, v in record(9).items() if k != "environment"}),
        "[1, 2]",
    ],
)
def test_a_poisoned_journal_line_is_set_aside_with_a_warning(tmp_path, line):
    store = ResultsStore(tmp_path)
    orphan = journal(store, "s1", [json.dumps(record(1)), line, json.dumps(record(2))])
    assert store.recover() == 2
    assert ids(store) == ["rec-1", "rec-2"]
    assert any(f"{orphan}: line 2: not a valid record" in w for w in store.warnings)
    assert (store.journal_dir / "rejected" / orphan.name).read_text() == line + "\n"
    assert store.recover() == 0  # nothing left to block the next one


def test_a_poisoned_results_line_is_skipped_by_readers_with_its_line_number(tmp_path):
    store = ResultsStore(tmp_path)
    bad = json.dumps(record(2)).replace("0.2", "NaN")
    lines = [json.dumps(record(1)), bad, json.dumps({"record_id": "x"}), json.dumps(record(4))]
    store.path.write_text(
        '{\n  "results": [\n' + ",\n".join("    " + x for x in lines) + "\n  ]\n}\n"
    )
    assert [r["record_id"] for r in store.run_records("run-001")] == ["rec-1", "rec-4"]
    assert any("results.json: line 4: not a valid record" in w for w in store.warnings)
    assert any("results.json: line 5: not a valid record" in w for w in store.warnings)
    store.fold([journal(store, "s1", [json.dumps(record(5))])])
    assert ids(store)[-1] == "rec-5"


def test_a_full_disk_keeps_the_records_in_the_journal(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    store.fold([])
    before = store.path.read_bytes()
    own = journal(store, "s1", [json.dumps(record(1))])

    def full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(IterbenchError, match=rf"No space left on device.*kept in {own}"):
        store.fold([own], fresh=True)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert own.exists()
    assert store.recover() == 1
    assert ids(store) == ["rec-1"]


def test_stale_locks_and_partial_files_are_cleaned_by_recovery(tmp_path):
    store = ResultsStore(tmp_path)
    store.fold([])
    store.journal_dir.mkdir(parents=True, exist_ok=True)
    stale = store.journal_dir / "dead.jsonl.lock"
    stale.write_text("")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    partial = tmp_path / ".results.json.12345.partial"
    partial.write_text("x" * 100)
    store.recover()
    assert not stale.exists()
    assert not partial.exists()


def test_an_orphan_already_folded_is_not_appended_twice(tmp_path):
    store = ResultsStore(tmp_path)
    lines = [json.dumps(record(n)) for n in range(1, 4)]
    store.fold([journal(store, "s1", lines)], fresh=True)
    journal(store, "s1", lines)  # a kill after the append, before the journal was removed
    assert store.recover() == 0
    assert ids(store) == ["rec-1", "rec-2", "rec-3"]


RECOVER = (
    "import sys; from pytest_iterbench.cli import main; sys.exit(main(['recover', sys.argv[1]]))"
)


def test_eight_recoveries_at_once_over_many_orphans_never_raise(tmp_path):
    store = ResultsStore(tmp_path)
    for session in range(200):
        journal(store, f"s{session:03d}", [json.dumps(record(session * 10 + k)) for k in range(2)])
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RECOVER, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outputs
    assert not any("Traceback" in out for out in outputs)
    assert sorted(ids(store)) == sorted(f"rec-{s * 10 + k}" for s in range(200) for k in range(2))
    assert not list(store.journal_dir.glob("*.jsonl"))


def test_records_the_journal_cannot_take_are_spilled_and_recovered(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    elsewhere = tmp_path / "elsewhere"  # the temporary folder, on another disk
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    own = store.open_journal("s1")
    own.append(record(1))  # written

    def full(fd, data):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as disk_full:
        disk_full.setattr(os, "write", full)
        own.append(record(2))  # the disk is full: kept in memory
        assert own.unwritten == 1
        own.close()  # spilled to the temporary folder's file system
    assert own.spilled is not None
    assert own.spilled.is_relative_to(elsewhere)
    assert own.lost == 0
    assert store.recover() == 2  # the journal and its spill, after the session died
    assert ids(store) == ["rec-1", "rec-2"]
    assert not own.spilled.exists()


def test_a_line_the_full_disk_took_half_of_is_cut_back_and_spilled_whole(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    own = store.open_journal("s1")
    own.append(record(1))
    real_write = os.write

    def fills_up(fd, data):  # the disk takes 100 bytes, then is full
        if len(data) > 100:
            return real_write(fd, data[:100])
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as disk_full:
        disk_full.setattr(os, "write", fills_up)
        own.append(record(2))
        assert own.unwritten == 1
        own.close()
    assert own.path.read_bytes().count(b"\n") == 1  # no piece of record 2 left in the journal
    assert own.lost == 0
    assert store.recover() == 2
    assert ids(store) == ["rec-1", "rec-2"]
    assert store.warnings == []


# -- a session's end parses each record once -------------------------------------------


def session_fold(store, records):
    journal = store.open_journal("20260101T000000Z-0000abcd")
    for r in records:
        journal.append(r)
    journal.close(keep_lock=True)
    try:
        return store.fold([journal.path], fresh=True)
    finally:
        journal.release()


def file_records(store):
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
    line = json.dumps(record(1), separators=(",", ":"))
    for name in ("a", "b"):  # the same record in two orphan journals, folded one after the other
        journal(store, name, [line])
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
