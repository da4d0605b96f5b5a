"""The CI gate end to end: --iterbench-compare and `iterbench report --compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_iterbench.cli import main

DATA_DRIVEN_MAIN = """
from pathlib import Path

def run(parameters):
    predictions = [int(c) for c in Path("predictions.txt").read_text().strip()]
    return {"y_true": [1, 1, 1, 1], "y_pred": predictions}
"""

XDIST = pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])


@pytest.fixture
def gated(workspace):
    workspace.iteration("v1", DATA_DRIVEN_MAIN, files={"predictions.txt": "1111"})
    workspace.metric(
        "accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%", tolerance={"absolute": 5}
    )
    workspace.metric("f1_macro", "pytest_iterbench.metrics.F1MacroMetric")
    workspace.run().write()
    return workspace


def predict(workspace, digits: str) -> None:
    (Path(workspace.root) / "iterations" / "v1" / "predictions.txt").write_text(digits)


@XDIST
def test_the_gate_fails_a_session_whose_metric_got_worse_beyond_tolerance(gated, pytester, xdist):
    first = pytester.runpytest("--iterbench", "run-001", "--iterbench-compare", "last", *xdist)
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*no earlier session of this run to compare with; nothing gated*"])
    predict(gated, "1110")  # data changes, code does not: the configuration is the same
    second = pytester.runpytest("--iterbench", "run-001", "--iterbench-compare", "last", *xdist)
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    second.stdout.fnmatch_lines(
        [
            "*iterbench compare: run run-001, session * against *: FAILED, 1 regression, 0 within tolerance",
            "*  REGRESSION accuracy of v1: 100 -> 75 % (-25 %, tolerance 5 % absolute)",
            "*  not gated: f1_macro*",
        ]
    )
    assert len(gated.results()) == 4, "a failed gate still records the session"
    third = pytester.runpytest("--iterbench", "run-001", "--iterbench-compare", "last", *xdist)
    assert third.ret == pytest.ExitCode.OK
    third.stdout.fnmatch_lines(["*: OK, 0 regressions, 1 within tolerance"])


@XDIST
def test_a_changed_configuration_is_not_comparable_and_an_unknown_session_is_an_error(
    gated, pytester, xdist
):
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=2)
    predict(gated, "1100")
    main_py = Path(gated.root) / "iterations" / "v1" / "main.py"
    main_py.write_text(main_py.read_text() + "\n# tuned\n")
    result = pytester.runpytest("--iterbench", "run-001", "--iterbench-compare", "last", *xdist)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*not comparable: v1: *"])
    unknown = pytester.runpytest(
        "--iterbench", "run-001", "--iterbench-compare", "20000101T000000Z-nothere", *xdist
    )
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR, (
        "a mistaken --iterbench-compare is a usage error"
    )
    unknown.stdout.fnmatch_lines(
        ["*ERROR: *unknown session '20000101T000000Z-nothere' to compare with; known sessions: *"]
    )


@XDIST
def test_the_report_command_regenerates_and_gates(gated, pytester, capsys, xdist):
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=2)
    first_session = gated.results()[0]["session_id"]
    predict(gated, "1000")
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=2)
    (Path(gated.root) / "reports" / "comparison_report.md").unlink()
    assert main(["report", str(gated.root), "--run", "run-001"]) == 0
    report = (Path(gated.root) / "reports" / "comparison_report.md").read_text()
    assert "| v1 | 25 |" in report
    assert (Path(gated.root) / "reports" / "comparison_report.html").exists()
    capsys.readouterr()
    assert main(["report", str(gated.root), "--run", "run-001", "--compare", first_session]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION accuracy of v1: 100 -> 25 % (-75 %, tolerance 5 % absolute)" in out
    assert (
        main(
            [
                "report",
                str(gated.root),
                "--run",
                "run-001",
                "--session",
                first_session,
                "--compare",
                "last",
            ]
        )
        == 0
    )


@XDIST
def test_github_step_summary_receives_the_report(gated, pytester, monkeypatch, xdist):
    summary = Path(gated.root) / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.runpytest("--iterbench", "run-001", *xdist).assert_outcomes(passed=2)
    text = summary.read_text()
    assert text.startswith("# Comparison report: run-001")
    assert "| v1 | 100 |" in text
    assert json.loads((Path(gated.root) / "results.json").read_text())["results"]
