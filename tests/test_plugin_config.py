"""Configuration as pytest users expect it: typed ini options, testpaths, exit codes and warnings."""

from __future__ import annotations

import pytest

HANGS = """
import time

def run(parameters):
    time.sleep(30)
    return {"y_true": [1], "y_pred": [1]}
"""


def timed_workspace(workspace):
    workspace.iteration("v1")
    workspace.iteration("hangs", HANGS)
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.run().write()
    return workspace


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[tool.pytest]\niterbench_timeout = 1\niterbench_threads = 3\n"),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\niterbench_timeout = 1\niterbench_threads = 3\n",
        ),
        ("pytest.ini", "[pytest]\niterbench_timeout = 1\niterbench_threads = 3\n"),
    ],
    ids=["tool.pytest", "tool.pytest.ini_options", "pytest.ini"],
)
def test_numeric_ini_options_are_typed(workspace, pytester, name, text):
    timed_workspace(workspace)
    (workspace.root / name).write_text(text, encoding="utf-8")
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    records = {r["iteration_id"]: r for r in workspace.results()}
    assert records["hangs"]["status"] == "timeout"
    assert "exceeded the timeout of 1 s" in records["hangs"]["reason"]
    assert records["v1"]["environment"]["thread_cap"] == 3


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        ("pyproject.toml", '[tool.pytest]\niterbench_timeout = "soon"\n', "'soon'"),
        ("pytest.ini", "[pytest]\niterbench_timeout = soon\n", "'soon'"),
        ("pytest.ini", "[pytest]\niterbench_memory_limit = lots\n", "'lots'"),
        ("pytest.ini", "[pytest]\niterbench_threads = many\n", "'many'"),
    ],
    ids=["toml-timeout", "ini-timeout", "ini-memory", "ini-threads"],
)
def test_a_bad_ini_value_is_a_usage_error_naming_option_and_value(
    workspace, pytester, name, text, shown
):
    timed_workspace(workspace)
    (workspace.root / name).write_text(text, encoding="utf-8")
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    option = text.split("\n")[1].split(" =")[0]
    result.stderr.fnmatch_lines([f"*{option}*{shown}*"])
    assert not (workspace.root / "results.json").exists()


METRIC_TEST = """
import pytest

@pytest.mark.metric({metric!r})
def test_{metric}(iteration, record_result):
    record_result(1.0)
"""


def paths_workspace(workspace, pytester):
    workspace.iteration("v1")
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.metric("in_metrics")
    workspace.metric("in_checks")
    workspace.run().write()
    for folder in ("metrics", "checks"):
        (workspace.root / folder).mkdir()
        test = METRIC_TEST.format(metric=f"in_{folder}")
        (workspace.root / folder / f"test_in_{folder}.py").write_text(test, encoding="utf-8")
    pytester.makepyfile(test_project="def test_project():\n    pass\n")


def recorded_metrics(workspace):
    return sorted(r["metric_id"] for r in workspace.results())


@pytest.mark.parametrize(
    ("ini", "args", "expected"),
    [
        ("[pytest]\n", [], ["accuracy", "in_metrics"]),
        ("[pytest]\n", ["checks"], ["accuracy", "in_checks"]),
        ("[pytest]\ntestpaths = checks\n", [], ["accuracy", "in_checks"]),
    ],
    ids=["workspace-metrics-folder", "command-line-paths", "ini-testpaths"],
)
def test_metric_tests_come_from_paths_else_testpaths_else_the_metrics_folder(
    workspace, pytester, ini, args, expected
):
    paths_workspace(workspace, pytester)
    pytester.makeini(ini)
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=2)
    assert recorded_metrics(workspace) == expected, (
        "the run's class metrics always, tests as chosen"
    )


def test_naming_a_run_item_on_the_command_line_runs_that_item_alone(workspace, pytester):
    paths_workspace(workspace, pytester)
    result = pytester.runpytest(
        "--iterbench", "run-001", "-p", "no:cacheprovider", "runs.json::run-001::v1-accuracy"
    )
    result.assert_outcomes(passed=1)
    assert recorded_metrics(workspace) == ["accuracy"]


def test_a_corrupt_results_file_fails_the_session_with_a_warning_and_keeps_the_records(
    workspace, pytester
):
    workspace.iteration("v1")
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.run().write()
    (workspace.root / "results.json").write_text('{"results": [', encoding="utf-8")
    result = pytester.runpytest(
        "--iterbench",
        "run-001",
        "-p",
        "no:cacheprovider",
        "-W",
        "always::pytest_iterbench.errors.IterbenchWarning",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "not an INTERNALERROR"
    result.stdout.fnmatch_lines(
        ["*IterbenchWarning: *results.json: line 1*invalid JSON*this session's records: *.jsonl*"]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert (workspace.root / "results.json").read_text() == '{"results": [', "left untouched"
    (journal,) = (workspace.root / ".iterbench" / "journal").glob("*.jsonl")
    assert '"metric_id": "accuracy"' in journal.read_text(encoding="utf-8")


def test_the_iteration_fixture_outside_a_metric_test_fails_that_test_only(workspace, pytester):
    workspace.iteration("v1")
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.run().write()
    (workspace.root / "metrics").mkdir()
    (workspace.root / "metrics" / "test_plain.py").write_text(
        "def test_uses_iteration(request):\n    request.getfixturevalue('iteration')\n",
        encoding="utf-8",
    )
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the iteration fixture needs @pytest.mark.metric(ID)*"])
    assert [r["metric_id"] for r in workspace.results()] == ["accuracy"]
