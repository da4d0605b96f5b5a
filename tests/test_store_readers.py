"""A reader without the results lock never gets a torn ``results.json`` from the store's read path.

Issue 15 (the fault campaign's one invalid read): an append replaces the file's
closing in place, so a reader that takes no lock can read the file in the middle
of an append. Promise: :meth:`ResultsStore.read` (what ``iterbench``, the tests
and outside tools use) returns a valid document holding a prefix of the records
appended, every time; a bare ``json.loads`` of the same bytes may fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import pytest_iterbench
from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.results.document import dump_record, find_tail
from pytest_iterbench.results.store import ResultsStore
from pytest_iterbench.workspace.paths import WorkspacePaths

REPO = str(Path(pytest_iterbench.__file__).resolve().parents[1])

#: A record the journal accepts; ``{rid}`` and ``{pad}`` are filled in.
RECORD = (
    '{{"record_id": "{rid}", "session_id": "S", "run_id": "run-001", "iteration_id": "v1",'
    ' "metric_id": "accuracy", "value": 0.5, "unit": "", "status": "passed",'
    ' "executed_at": "2026-01-01T00:00:00.000Z", "environment": {{}}, "reason": "{pad}"}}'
)

#: Appends as a session does (journal, then fold), as fast as it can.
FOLDER = """
import json, sys
from pathlib import Path
from pytest_iterbench.results.store import ResultsStore

store = ResultsStore(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    journal = store.open_journal(f"S{n:04d}")
    for k in range(8):
        journal.append(json.loads(sys.argv[3].format(rid=f"r{n:04d}-{k}", pad="x" * 3000)))
    journal.close(keep_lock=True)
    store.fold([journal.path], fresh=True)
    journal.release()
"""

#: One append as the store makes it, cut in two writes: it stops half way until told to go on.
HALTING_APPENDER = """
import json, os, sys
from filelock import FileLock
from pytest_iterbench.results.document import dump_record, find_tail

results, lock, record = sys.argv[1:4]
with FileLock(lock):
    fd = os.open(results, os.O_RDWR)
    tail = find_tail(fd)
    data = tail.append_bytes([
        dump_record(json.loads(record.format(rid=f"new-{k}", pad=""))).encode() for k in range(3)
    ])
    half = len(data) // 2
    os.pwrite(fd, data[:half], tail.offset)
    print("torn", flush=True)
    sys.stdin.readline()
    os.pwrite(fd, data[half:], tail.offset + half)
    os.fsync(fd)
    os.close(fd)
"""


def python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def seeded(tmp_path: Path, count: int) -> ResultsStore:
    store = ResultsStore(tmp_path)
    journal = store.open_journal("S-seed")
    for k in range(count):
        journal.append(json.loads(RECORD.format(rid=f"old-{k}", pad="")))
    journal.close()
    store.fold([journal.path], fresh=True)
    return store


def test_a_read_in_the_middle_of_an_append_waits_for_it_and_sees_a_whole_document(tmp_path):
    store = seeded(tmp_path, 2)
    lock = str(WorkspacePaths(tmp_path).results_lock)
    read: list[list[str]] = []
    reader = threading.Thread(target=lambda: read.append([r["record_id"] for r in store.read()]))
    with python(HALTING_APPENDER, str(store.path), lock, RECORD) as appender:
        assert appender.stdout is not None
        assert appender.stdin is not None
        assert appender.stdout.readline() == "torn\n"
        with pytest.raises(json.JSONDecodeError):
            json.loads(store.path.read_bytes())  # what a bare json.load sees
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive(), "the read returned while the append held the results lock"
        appender.stdin.write("go\n")
        appender.stdin.flush()
        assert appender.wait(timeout=30) == 0
    reader.join(timeout=30)
    assert read == [["old-0", "old-1", "new-0", "new-1", "new-2"]]


def test_every_read_racing_appends_is_a_valid_prefix_of_the_records(tmp_path):
    store = seeded(tmp_path, 1)
    reads: list[list[str]] = []
    with python(FOLDER, str(tmp_path), "60", RECORD) as folder:
        while folder.poll() is None:
            reads.append([r["record_id"] for r in store.read()])
        assert folder.wait() == 0
    final = [r["record_id"] for r in store.read()]
    assert final == ["old-0"] + [f"r{n:04d}-{k}" for n in range(60) for k in range(8)]
    assert len(reads) > 10
    for ids in reads:
        assert ids == final[: len(ids)]


def test_a_tail_cut_by_a_kill_is_read_up_to_its_last_complete_record(tmp_path):
    store = seeded(tmp_path, 2)
    fd = os.open(store.path, os.O_RDWR)
    tail = find_tail(fd)
    assert tail is not None
    cut = b",\n    " + dump_record(json.loads(RECORD.format(rid="cut", pad=""))).encode()[:30]
    os.pwrite(fd, cut, tail.offset)
    os.ftruncate(fd, tail.offset + len(cut))
    os.close(fd)
    before = store.path.read_bytes()
    assert [r["record_id"] for r in store.read()] == ["old-0", "old-1"]
    assert store.warnings == [
        f"{store.path}: its end was cut short (an interrupted append); read up to its last complete "
        "record; the next session or `iterbench recover` closes it again"
    ]
    assert store.path.read_bytes() == before  # a reader does not repair


def test_a_broken_line_inside_the_document_still_names_its_place(tmp_path):
    store = seeded(tmp_path, 2)
    text = store.path.read_text()
    store.path.write_text(text.replace('"old-0"', '"old-0', 1))
    with pytest.raises(IterbenchError, match="invalid JSON") as caught:
        store.read()
    assert str(caught.value).startswith(f"{store.path}: line 4, column ")
