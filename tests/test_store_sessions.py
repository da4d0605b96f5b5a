"""Sessions and reports over a store with poisoned lines, history and many orphans (with -n 2 twins)."""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.cli import main
from pytest_iterbench.results.store import ResultsStore
from tests.conftest import old_record, write_results

XDIST = [[], ["-n", "2"]]


@pytest.fixture
def small(workspace):
    workspace.iteration("v1").iteration("v2").builtin_metrics().run("run-001").write()
    return workspace


@pytest.mark.parametrize("extra", XDIST)
def test_a_poisoned_results_line_blocks_no_session_nor_report(small, pytester, extra):
    poisoned = json.dumps(old_record(1)).replace("0.5", "NaN")
    missing = json.dumps({"record_id": "x", "run_id": "run-001"})
    write_results(small.root / "results.json", [json.dumps(old_record(0)), poisoned, missing])
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *extra)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*results.json: line 5: not a valid record*skipped*"])
    lines = (small.root / "results.json").read_text().splitlines()
    assert lines[3:6] == [
        "    " + json.dumps(old_record(0)) + ",",
        "    " + poisoned + ",",
        "    " + missing + ",",
    ]
    assert sum(1 for line in lines if '"run_id": "run-001"' in line) == 3 + 4
    assert "| v1 |" in small.report()
    assert main(["report", str(small.root), "--run", "run-001"]) == 0


@pytest.mark.parametrize("extra", XDIST)
def test_a_poisoned_journal_line_is_set_aside_and_the_session_goes_on(small, pytester, extra):
    store = ResultsStore(small.root)
    store.journal_dir.mkdir(parents=True)
    orphan = store.journal_dir / "20200101T000000Z-dead0000.jsonl"
    orphan.write_text(json.dumps(old_record(1)) + '\n{"record_id": "x"}\n', encoding="utf-8")
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *extra)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([f"*{orphan}: line 2: not a valid record*"])
    records = small.results()
    assert records[0]["record_id"] == "old-1"
    assert len(records) == 5
    assert (store.journal_dir / "rejected" / orphan.name).read_text() == '{"record_id": "x"}\n'


@pytest.mark.parametrize("extra", XDIST)
def test_the_report_judges_the_latest_session_and_counts_history_from_the_index(
    small, pytester, extra
):
    history = [
        json.dumps(old_record(n, session=f"2020010{1 + n // 2}T000000Z-old0000{n}", value=0.1 * n))
        for n in range(6)
    ]
    history += [json.dumps(old_record(100 + n, run="run-other")) for n in range(3)]
    write_results(small.root / "results.json", history)
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *extra)
    result.assert_outcomes(passed=4)
    records = small.results()
    assert len(records) == 9 + 4
    assert records[:9] == [json.loads(line) for line in history]
    report = small.report()
    assert "(4 records of this run)" not in report
    assert f"({6 + 4} records of this run)" in report
    assert "run-other" not in report


@pytest.mark.parametrize("extra", XDIST)
def test_an_unwritable_results_file_keeps_the_session_records_in_its_journal(
    small, pytester, extra
):
    results = small.root / "results.json"
    results.mkdir()  # a folder where the file should be
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *extra)
    result.stdout.fnmatch_lines(["*WARNING:*results.json*new results stay in*"])
    assert "Traceback" not in result.stdout.str()
    # The items passed, but their records did not reach results.json: not an internal error.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (journal,) = (small.root / ".iterbench" / "journal").glob("*.jsonl")
    assert len(journal.read_text().splitlines()) == 4
    results.rmdir()
    assert main(["recover", str(small.root)]) == 0
    assert len(small.results()) == 4
