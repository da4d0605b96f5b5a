"""Bad input: a clear message naming the file and the place, exit code 4, and nothing written."""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.cli import main

EXISTING_RESULTS = '{"results": [{"run_id": "old", "iteration_id": "v0", "metric_id": "m", "value": 1.5, "unit": "", "executed_at": "2025-01-01T00:00:00Z", "environment": {"platform": "x", "python": "3.11"}}]}\n'


@pytest.fixture
def valid(workspace):
    workspace.iteration("v1").iteration("v2", parent="v1").builtin_metrics().run().write()
    (workspace.root / "results.json").write_text(EXISTING_RESULTS)
    return workspace


def edit(workspace, name, change):
    path = workspace.root / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def set_class(data):
    data["metrics"][0]["class"] = "nowhere.Metric"


def make_cycle(data):
    data["iterations"][0]["parent"] = "v2"


def unknown_iteration(data):
    data["runs"][0]["iteration_ids"] = ["v1", "v9"]


def schema_violation(data):
    data["runs"][0]["metric_ids"] = "accuracy"


def duplicate_id(data):
    data["iterations"][1]["id"] = "v1"
    data["iterations"][1]["parent"] = None


def unknown_parent(data):
    data["iterations"][1]["parent"] = "v0"


def typo(data):
    data["iterations"][0]["paramters"] = {}


def seeds_mismatch(data):
    data["runs"][0].update(repeats=2, seeds=[1])


CASES = {
    "seeds-count": (
        "runs.json",
        seeds_mismatch,
        "runs.json: runs[0].seeds: expected 2 seeds (one per repeat), found 1",
    ),
    "cyclic-parent": (
        "iterations.json",
        make_cycle,
        "iterations.json: iterations[0].parent: parent cycle: v1 -> v2 -> v1",
    ),
    "unknown-iteration": (
        "runs.json",
        unknown_iteration,
        "runs.json: runs[0].iteration_ids[1]: unknown iteration 'v9'; known: v1, v2",
    ),
    "schema-violation": (
        "runs.json",
        schema_violation,
        "runs.json: runs[0].metric_ids: 'accuracy' is not of type 'array' (found \"accuracy\")",
    ),
    "class-does-not-import": (
        "metrics.json",
        set_class,
        "metrics.json: metrics[0].class: cannot import 'nowhere.Metric': ModuleNotFoundError: No module named 'nowhere'",
    ),
    "duplicate-id": (
        "iterations.json",
        duplicate_id,
        "iterations.json: iterations[1].id: duplicate id 'v1' (first defined at iterations[0])",
    ),
    "unknown-parent": (
        "iterations.json",
        unknown_parent,
        "iterations.json: iterations[1].parent: unknown iteration 'v0'; known: v1, v2",
    ),
    "typo": (
        "iterations.json",
        typo,
        "iterations.json: iterations[0]: Additional properties are not allowed ('paramters' was unexpected); allowed: approach, created_at, description, entry_point, id, memory_limit_mb, name, parameters, parent, repeats, source_path, tags, timeout, timing",
    ),
}


def assert_nothing_written(workspace):
    assert (workspace.root / "results.json").read_text() == EXISTING_RESULTS
    assert not (workspace.root / "reports").exists()
    assert not (workspace.root / ".iterbench").exists()


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_invalid_workspace_is_a_usage_error_naming_the_place(valid, pytester, case):
    file, change, message = CASES[case]
    edit(valid, file, change)
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"  {message}" in result.stderr.lines
    assert_nothing_written(valid)


def test_invalid_json_syntax_names_line_and_column(valid, pytester):
    (valid.root / "metrics.json").write_text('{\n  "metrics": [\n    {"id": "accuracy",}\n  ]\n}\n')
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*metrics.json: line 3, column 23: invalid JSON: Expecting property name enclosed in double quotes*"
        ]
    )
    assert_nothing_written(valid)


def test_missing_entry_point_and_source(valid, pytester):
    (valid.root / "iterations" / "v1" / "main.py").unlink()
    edit(
        valid,
        "iterations.json",
        lambda data: data["iterations"][1].update(source_path="iterations/gone"),
    )
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*iterations.json: iterations[[]0[]].entry_point: file not found: 'main.py' in 'iterations/v1'*",
            "*iterations.json: iterations[[]1[]].source_path: folder not found: 'iterations/gone'*",
        ]
    )
    assert_nothing_written(valid)


def test_every_problem_is_reported_at_once(valid, pytester):
    edit(valid, "runs.json", unknown_iteration)
    edit(valid, "metrics.json", set_class)
    result = pytester.runpytest("--iterbench", "run-001")
    result.stderr.fnmatch_lines(
        [
            "*metrics.json: metrics[[]0[]].class: cannot import*",
            "*runs.json: runs[[]0[]].iteration_ids[[]1[]]: unknown iteration 'v9'*",
        ]
    )


def test_unknown_run_lists_the_known_ones(valid, pytester):
    result = pytester.runpytest("--iterbench", "run-404")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*runs.json: runs: unknown run 'run-404'; known: run-001*"])
    assert_nothing_written(valid)


def test_missing_workspace_file(pytester):
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*iterations.json: file not found (expected at*"])


def test_corrupt_results_json_is_left_alone_and_nothing_is_lost(valid, pytester):
    (valid.root / "results.json").write_text('{"results": [\n')
    result = pytester.runpytest("--iterbench", "run-001")
    result.stdout.fnmatch_lines(
        ["*WARNING: *results.json: line 2, column 1: invalid JSON*left untouched*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "the records are safe: no INTERNALERROR"
    assert (valid.root / "results.json").read_text() == '{"results": [\n'
    (journal,) = (valid.root / ".iterbench" / "journal").glob("*.jsonl")
    assert len(journal.read_text().splitlines()) == 4
    (valid.root / "results.json").write_text(EXISTING_RESULTS)
    assert main(["recover", "--dir", str(valid.root)]) == 0
    assert len(valid.results()) == 5


@pytest.mark.parametrize(
    "spelling", [["--dir"], ["--workspace"], []], ids=["dir", "old-flag", "old-positional"]
)
def test_validate_command(valid, capsys, spelling):
    assert main(["validate", *spelling, str(valid.root)]) == 0
    assert "OK (2 iterations, 2 metrics, 1 runs)" in capsys.readouterr().out
    edit(valid, "iterations.json", make_cycle)
    assert main(["validate", *spelling, str(valid.root)]) == 4
    assert (
        "iterations.json: iterations[0].parent: parent cycle: v1 -> v2 -> v1"
        in capsys.readouterr().err
    )
    assert_nothing_written(valid)


def test_colliding_item_ids_are_refused(workspace, pytester):
    workspace.iteration("v1").iteration("v1-x")
    workspace.metric("x-acc", "pytest_iterbench.metrics.AccuracyMetric").metric(
        "acc", "pytest_iterbench.metrics.AccuracyMetric"
    )
    workspace.run().write()
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "  runs.json: runs[0]: iteration 'v1' × metric 'x-acc' and iteration 'v1-x' × metric 'acc' would both be item 'v1-x-acc'; rename one"
        in result.stderr.lines
    )
