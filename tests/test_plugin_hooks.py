"""The plugin hooks (hookspec.py): a conftest implementing each one changes results.json and the report."""

from __future__ import annotations

import json

import pytest

HOOKS_CONFTEST = """
import itertools

import pytest

from pytest_iterbench.execution.isolation import RawOutcome
from pytest_iterbench.report.document import Heading, Paragraph, line

CALLS = itertools.count(1)


def pytest_iterbench_environment(config, environment):
    environment["environment_calls"] = next(CALLS)
    return {"cluster": "hooked-cluster"}


def pytest_iterbench_record(config, record):
    record["metadata"]["stamped_in"] = "worker" if hasattr(config, "workerinput") else "controller"


def pytest_iterbench_report_sections(config, comparison):
    return [
        Heading(2, line("Hooked section")),
        Paragraph(line(f"{len(comparison.iterations)} iterations seen by a plugin")),
    ]


def replay(request):
    outputs = {"y_true": [1, 0, 1, 0], "y_pred": [1, 1, 1, 1], "source": request.entry_point}
    return RawOutcome("ok", result={"outputs": outputs, "timings": {}, "resources": {}})


@pytest.hookimpl(tryfirst=True)
def pytest_iterbench_entry_point_runner(suffix):
    return replay if suffix == ".ipynb" else None
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_plugin_implementing_every_hook_changes_results_and_report(workspace, pytester, xdist):
    workspace.iteration("v1")
    workspace.iteration("nb")
    workspace.iterations[-1]["entry_point"] = "main.ipynb"
    (workspace.root / "iterations" / "nb" / "main.ipynb").write_text("{}", encoding="utf-8")
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.run().write()
    pytester.makeconftest(HOOKS_CONFTEST)
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider", *xdist).assert_outcomes(
        passed=2
    )
    records = {r["iteration_id"]: r for r in workspace.results()}
    assert records["nb"]["value"] == 50.0, "the plugin's runner ran the notebook entry point"
    for record in records.values():
        assert record["environment"]["cluster"] == "hooked-cluster"
        assert record["environment"]["environment_calls"] == 1, "called once per process"
        assert record["metadata"]["stamped_in"] == "controller", "applied where records are written"
    report = workspace.report()
    assert "## Hooked section\n\n2 iterations seen by a plugin\n" in report
    html = (workspace.root / "reports" / "comparison_report.html").read_text(encoding="utf-8")
    assert "Hooked section" in html
    assert "2 iterations seen by a plugin" in html


def test_without_a_runner_a_notebook_iteration_is_an_error_naming_the_hook(
    workspace, pytester, monkeypatch
):
    workspace.iteration("nb")
    workspace.iterations[-1]["entry_point"] = "main.ipynb"
    (workspace.root / "iterations" / "nb" / "main.ipynb").write_text("{}", encoding="utf-8")
    workspace.metric("accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%")
    workspace.run().write()
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.pluginmanager.set_blocked('iterbench-notebook-runner')\n"
    )
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider").assert_outcomes(failed=1)
    (record,) = workspace.results()
    assert record["status"] == "error"
    assert "no runner for .ipynb entry points" in record["reason"]
    assert "pytest_iterbench_entry_point_runner" in record["reason"]
    assert json.loads((workspace.root / "results.json").read_text())["results"] == [record]
