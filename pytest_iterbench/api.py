"""The seed's Python interface: load definitions, execute a run, generate a report.

>>> from pytest_iterbench import load_iterations, execute_run, generate_report
>>> iterations = load_iterations("iterations.json")  # doctest: +SKIP
>>> records = execute_run("run-001", workspace=".")  # doctest: +SKIP
>>> print(generate_report(records))  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.harness.session import RECORD_PROPERTY
from pytest_iterbench.report.writer import render_report
from pytest_iterbench.results.records import ResultRecord
from pytest_iterbench.workspace.loader import load_document
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition


def load_iterations(path: str | Path) -> list[Iteration]:
    """The iterations of an ``iterations.json`` file, validated against its schema."""
    return [
        Iteration.from_json(entry)
        for entry in load_document(Path(path), "iterations")["iterations"]
    ]


def load_metrics(path: str | Path) -> list[MetricDefinition]:
    """The metric definitions of a ``metrics.json`` file, validated against its schema."""
    return [
        MetricDefinition.from_json(entry)
        for entry in load_document(Path(path), "metrics")["metrics"]
    ]


def load_runs(path: str | Path) -> list[RunDefinition]:
    """The runs of a ``runs.json`` file, validated against its schema."""
    return [RunDefinition.from_json(entry) for entry in load_document(Path(path), "runs")["runs"]]


class _RecordCollector:
    """Keeps the records of one in-process session as they reach the controller."""

    def __init__(self) -> None:
        self.records: list[ResultRecord] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == RECORD_PROPERTY:
                self.records.append(ResultRecord.from_json(json.loads(str(value))))


def execute_run(
    run: RunDefinition | str, workspace: str | Path = ".", pytest_args: Sequence[str] = ()
) -> list[ResultRecord]:
    """Execute one run as a pytest session (the same path as ``pytest --iterbench``).

    The records are appended to the workspace's ``results.json`` and returned.
    Raises ``IterbenchError`` when the session could not run (invalid workspace, ...).
    """
    run_id = run.id if isinstance(run, RunDefinition) else run
    collector = _RecordCollector()
    args = [
        "--iterbench",
        run_id,
        "--iterbench-dir",
        str(Path(workspace).resolve()),
        "-p",
        "no:cacheprovider",
        "-q",
        *pytest_args,
    ]
    code = pytest.main(args, plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise IterbenchError(
            f"run {run_id!r} in {workspace}: pytest exited with {pytest.ExitCode(code).name} ({int(code)})"
        )
    return collector.records


def generate_report(
    results: Sequence[ResultRecord | dict[str, Any]], run_id: str | None = None
) -> str:
    """The Markdown comparison of one run's results (default: the run of the last record)."""
    records = [r.to_json() if isinstance(r, ResultRecord) else r for r in results]
    if run_id is None:
        if not records:
            raise IterbenchError("generate_report: no results, and no run_id given")
        run_id = str(records[-1]["run_id"])
    return render_report(records, run_id)
