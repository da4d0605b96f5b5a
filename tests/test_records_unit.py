"""Unit tests of ``pytest_iterbench.results.records`` and ``pytest_iterbench.results.store``."""

from __future__ import annotations

import json
import math
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import json_values
from seed_documents import SEED_RESULTS

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.results.records import ResultRecord
from pytest_iterbench.results.store import ResultsStore, dump_results, read_journal
from pytest_iterbench.workspace.schemas import validate

STATUSES = ("passed", "failed", "error", "skipped", "timeout")

# -- strategies ----------------------------------------------------------------------------

json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
environments = st.fixed_dictionaries(
    {"platform": st.text(max_size=12), "python": st.text(max_size=8)},
    optional={
        "gpu": st.none() | st.text(max_size=12),
        "cpu_count": st.integers(1, 256),
        "packages": st.dictionaries(st.text(max_size=8), st.none() | st.text(max_size=8)),
    },
)
timestamps = st.datetimes().map(lambda m: m.isoformat(timespec="milliseconds") + "Z")
records = st.builds(
    ResultRecord,
    run_id=st.text(max_size=10),
    iteration_id=st.text(max_size=10),
    metric_id=st.text(max_size=10),
    value=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    unit=st.text(max_size=6),
    status=st.sampled_from(STATUSES),
    executed_at=timestamps,
    environment=environments,
    session_id=st.text(max_size=12),
    parameters=json_objects,
    metadata=json_objects,
    reason=st.none() | st.text(max_size=30),
    git_commit=st.none() | st.text(string.hexdigits, min_size=40, max_size=40),
    nodeid=st.text(max_size=30),
    record_id=st.uuids().map(lambda u: u.hex),
)


def make_result(n, **fields):
    """A record as the plugin builds it, with the record id ``rec-<n>``."""
    defaults = {
        "run_id": "run-001",
        "iteration_id": f"v{n}",
        "metric_id": "accuracy",
        "value": n / 10,
        "unit": "%",
        "status": "passed",
        "executed_at": f"2026-01-01T00:00:{n:02d}.000Z",
        "environment": {"platform": "linux-x86_64", "python": "3.11.7", "gpu": None},
        "session_id": "20260101T000000Z-0000abcd",
        "nodeid": f"runs.json::run-001::v{n}-accuracy",
        "record_id": f"rec-{n}",
    }
    return ResultRecord(**{**defaults, **fields})


def make_record(n, **fields):
    """A record as the plugin writes it, with the record id ``rec-<n>``."""
    return make_result(n, **fields).to_json()


def write_journal(store, session_id, entries):
    """A journal left behind by a session that ended without folding it."""
    journal = store.open_journal(session_id)
    for entry in entries:
        journal.append(entry)
    journal.close()
    return journal.path


def record_ids(store):
    return [r.get("record_id") for r in store.read()]


# -- ResultRecord --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(records)
def test_record_round_trip(rec):
    data = json.loads(json.dumps(rec.to_json(), allow_nan=False))
    assert ResultRecord.from_json(data) == rec


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_become_null(value):
    data = make_result(1, value=value).to_json()
    assert data["value"] is None
    assert json.loads(json.dumps(data, allow_nan=False))["value"] is None


def test_from_json_reads_the_seed_records():
    first, second = (ResultRecord.from_json(entry) for entry in SEED_RESULTS["results"])
    assert first.status == "passed"
    assert first.value == 82.3
    assert first.unit == "%"
    assert first.session_id == ""
    assert first.parameters == {}
    assert first.reason is None
    assert first.metadata == {"dataset_size": 10000, "train_split": 0.8}
    assert second.environment["gpu"] == "NVIDIA T4"
    # a legacy record gets a stable id, so folding it twice still adds it once
    assert first.record_id == ResultRecord.from_json(SEED_RESULTS["results"][0]).record_id
    assert first.record_id != second.record_id


def test_a_record_without_nodeid_still_validates():
    data = ResultRecord.from_json(SEED_RESULTS["results"][0]).to_json()
    assert validate("results", {"results": [data]}, "results.json") == []


# -- dump_results --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(records, max_size=4))
def test_dump_results_parses_back_and_validates(recs):
    entries = [r.to_json() for r in recs]
    text = dump_results(entries)
    document = json.loads(text)
    assert document == {"$schema": "schemas/results-schema.json", "results": entries}
    assert validate("results", document, "results.json") == []
    # one record per line, so that an append shows in a diff as added lines
    lines = text.split("\n")
    for entry in entries:
        assert any(
            line.strip().rstrip(",") == json.dumps(entry, ensure_ascii=False) for line in lines
        )


def test_dump_results_without_schema_ref():
    assert json.loads(dump_results([make_record(1)], None)) == {"results": [make_record(1)]}


def test_dump_results_refuses_nan():
    with pytest.raises(ValueError, match="JSON compliant"):
        dump_results([{"value": math.nan}])


# -- ResultsStore.fold ---------------------------------------------------------------------


def test_fold_appends_each_record_once_even_when_folded_twice(tmp_path):
    store = ResultsStore(tmp_path)
    first = write_journal(store, "s1", [make_record(1), make_record(2)])
    second = write_journal(store, "s2", [make_record(3), make_record(2)])
    saved = {path: path.read_bytes() for path in (first, second)}

    assert store.fold([first, second]) == 3
    assert not first.exists()
    assert not second.exists()
    assert not list(store.journal_dir.glob("*.lock"))
    # a session killed after writing results.json but before removing its journals
    for path, data in saved.items():
        path.write_bytes(data)
    assert store.fold([first, second]) == 0

    assert record_ids(store) == ["rec-1", "rec-2", "rec-3"]
    assert store.read() == [make_record(1), make_record(2), make_record(3)]
    document = json.loads(store.path.read_text(encoding="utf-8"))
    assert validate("results", document, "results.json") == []


def test_fold_without_journals_creates_an_empty_results_file(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.read() == []
    assert store.fold([]) == 0
    document = json.loads(store.path.read_text(encoding="utf-8"))
    assert document == {"$schema": "schemas/results-schema.json", "results": []}


def test_fold_loses_only_the_line_cut_by_a_kill(tmp_path):
    store = ResultsStore(tmp_path)
    journal = write_journal(store, "s1", [make_record(1), make_record(2), make_record(3)])
    data = journal.read_bytes()
    last_line_start = data.rstrip(b"\n").rindex(b"\n") + 1
    journal.write_bytes(data[: last_line_start + (len(data) - last_line_start) // 2])

    assert [r["record_id"] for r in read_journal(journal)] == ["rec-1", "rec-2"]
    assert store.fold([journal]) == 2
    assert record_ids(store) == ["rec-1", "rec-2"]


def test_fold_loses_only_the_line_cut_inside_a_character(tmp_path):
    store = ResultsStore(tmp_path)
    entries = [make_record(1), make_record(2, reason="précision trop basse")]
    journal = write_journal(store, "s1", entries)
    data = journal.read_bytes()
    journal.write_bytes(data[: data.rindex("é".encode()) + 1])

    assert store.fold([journal]) == 1
    assert record_ids(store) == ["rec-1"]


def test_fold_keeps_the_records_of_a_seed_results_file(tmp_path):
    store = ResultsStore(tmp_path)
    store.path.write_text(json.dumps(SEED_RESULTS, indent=2, ensure_ascii=False), encoding="utf-8")
    journal = write_journal(store, "s1", [make_record(1)])

    assert store.fold([journal]) == 1
    document = json.loads(store.path.read_text(encoding="utf-8"))
    assert document["$schema"] == "results-schema.json"
    assert document["results"] == [*SEED_RESULTS["results"], make_record(1)]


CORRUPT = '{\n  "results": [\n    {"run_id": "run-001", }\n  ]\n}\n'


def test_fold_refuses_a_corrupt_results_file_and_keeps_everything(tmp_path):
    store = ResultsStore(tmp_path)
    store.path.write_text(CORRUPT, encoding="utf-8")
    before = store.path.read_bytes()
    journal = write_journal(store, "s1", [make_record(1)])
    journal_before = journal.read_bytes()

    with pytest.raises(
        IterbenchError, match=r"results\.json: line 3, column \d+: invalid JSON"
    ) as info:
        store.fold([journal])

    assert str(store.path) in str(info.value)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)
    assert store.path.read_bytes() == before
    assert journal.read_bytes() == journal_before


def test_read_refuses_a_results_file_without_a_results_list(tmp_path):
    store = ResultsStore(tmp_path)
    store.path.write_text('{"records": []}', encoding="utf-8")
    with pytest.raises(IterbenchError, match="expected an object with a 'results' list"):
        store.read()


# -- orphan journals -------------------------------------------------------------------------


def test_orphan_journals_skips_a_live_session(tmp_path):
    store = ResultsStore(tmp_path)
    live = store.open_journal("20260101T000001Z-live0000")
    try:
        live.append(make_record(1))
        dead = write_journal(store, "20260101T000000Z-dead0000", [make_record(2)])
        assert store.orphan_journals() == [dead]

        assert store.recover() == 1
        assert record_ids(store) == ["rec-2"]
        assert live.path.exists()
        assert not dead.exists()
    finally:
        live.close()
    assert store.orphan_journals() == [live.path]
