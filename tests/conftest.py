"""Shared fixtures: a builder for throw-away workspaces inside pytester's folder."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Imported before any in-process pytester run: pytester drops the modules an
# inner session imported, and numpy's C extension cannot be loaded twice.
import matplotlib.figure  # noqa: F401
import pytest
import sklearn.metrics  # noqa: F401
import zmq

# In-process nbmake and nbclient sessions (pytester runs them inside this worker) open
# their kernel clients on zmq's global context and do not all close them; over a whole
# worker's share of the suite that outgrows libzmq's default of 1,023 sockets per context
# ("Too many open files"). The harness's own KernelPool uses, and destroys, a context of
# its own; this raises the ceiling for the libraries' global one.
zmq.Context.instance().max_sockets = 16384

TRIVIAL_MAIN = """
def run(parameters):
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0], "echo": parameters}
"""


@dataclass
class WorkspaceBuilder:
    """Writes iterations.json, metrics.json, runs.json and iteration folders under ``root``."""

    root: Path
    iterations: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def iteration(
        self,
        iteration_id: str,
        main: str = TRIVIAL_MAIN,
        *,
        files: dict[str, str] | None = None,
        source: str | None = None,
        **fields: Any,
    ) -> WorkspaceBuilder:
        source = source or f"iterations/{iteration_id}"
        folder = self.root / source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.py").write_text(textwrap.dedent(main), encoding="utf-8")
        for name, text in (files or {}).items():
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
        self.iterations.append(
            {
                "id": iteration_id,
                "name": iteration_id,
                "source_path": source,
                "entry_point": "main.py",
                "parameters": {},
                "parent": None,
                **fields,
            }
        )
        return self

    def metric(
        self,
        metric_id: str,
        cls: str | None = None,
        *,
        unit: str = "",
        higher_is_better: bool = True,
        **fields: Any,
    ) -> WorkspaceBuilder:
        entry: dict[str, Any] = {
            "id": metric_id,
            "name": metric_id,
            "higher_is_better": higher_is_better,
            "unit": unit,
            **fields,
        }
        if cls is not None:
            entry["class"] = cls
        self.metrics.append(entry)
        return self

    def builtin_metrics(self) -> WorkspaceBuilder:
        self.metric(
            "accuracy", "pytest_iterbench.metrics.AccuracyMetric", unit="%", type="ml_quality"
        )
        self.metric("f1_macro", "pytest_iterbench.metrics.F1MacroMetric")
        return self

    def performance_metrics(self) -> WorkspaceBuilder:
        self.metric(
            "exec_time",
            "pytest_iterbench.metrics.ExecutionTimeMetric",
            unit="seconds",
            higher_is_better=False,
        )
        self.metric(
            "peak_memory",
            "pytest_iterbench.metrics.PeakMemoryMetric",
            unit="MB",
            higher_is_better=False,
        )
        return self

    def run(
        self,
        run_id: str = "run-001",
        iteration_ids: list[str] | None = None,
        metric_ids: list[str] | None = None,
    ) -> WorkspaceBuilder:
        self.runs.append(
            {
                "id": run_id,
                "name": run_id,
                "iteration_ids": iteration_ids or [it["id"] for it in self.iterations],
                "metric_ids": metric_ids or [m["id"] for m in self.metrics],
            }
        )
        return self

    def write(self) -> Path:
        for name, key, entries in (
            ("iterations.json", "iterations", self.iterations),
            ("metrics.json", "metrics", self.metrics),
            ("runs.json", "runs", self.runs),
        ):
            (self.root / name).write_text(json.dumps({key: entries}, indent=2), encoding="utf-8")
        return self.root

    def results(self) -> list[dict[str, Any]]:
        """The parsed records of results.json (which must exist and be valid JSON)."""
        return json.loads((self.root / "results.json").read_text(encoding="utf-8"))["results"]

    def report(self) -> str:
        return (self.root / "reports" / "comparison_report.md").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def forget_workspace_metrics() -> Iterator[None]:
    """Forget the ``metrics`` package a test imported, wherever it came from.

    Every workspace keeps its metric classes in a package named ``metrics``. A test
    that loads one in this process (a plan naming ``metrics.rates.X`` imports the
    ``metrics`` package first found on ``sys.path``, this repository's own when the
    workspace has none) would leave it in ``sys.modules``, and a later in-process
    pytester session would import its own ``metrics/test_*.py`` from the wrong package.
    """
    before = {name for name in sys.modules if name == "metrics" or name.startswith("metrics.")}
    yield
    for name in [n for n in sys.modules if n == "metrics" or n.startswith("metrics.")]:
        if name not in before:
            del sys.modules[name]


@pytest.fixture
def workspace(pytester: pytest.Pytester) -> WorkspaceBuilder:
    """A workspace builder rooted at pytester's folder (also the inner session's rootdir)."""
    pytester.makeini("[pytest]\n")
    return WorkspaceBuilder(pytester.path)


def record_keys(records: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """The (run, iteration, metric) triples of some records."""
    return {(r["run_id"], r["iteration_id"], r["metric_id"]) for r in records}


def old_record(
    n: int, run: str = "run-001", session: str = "20200101T000000Z-old00000", **fields: Any
) -> dict[str, Any]:
    """A valid record of an earlier session (``v1`` x ``accuracy`` unless ``fields`` say otherwise)."""
    return {
        "record_id": f"old-{n}",
        "session_id": session,
        "run_id": run,
        "iteration_id": "v1",
        "metric_id": "accuracy",
        "value": 0.5,
        "unit": "%",
        "status": "passed",
        "executed_at": "2020-01-01T00:00:00.000Z",
        "environment": {"platform": "linux", "python": "3.11"},
        "config_hash": "old",
        **fields,
    }


def write_results(path: Path, lines: list[str]) -> None:
    """A ``results.json`` holding ``lines`` (record texts), one per line as the store writes them."""
    path.write_text(
        '{\n  "$schema": "schemas/results-schema.json",\n  "results": [\n'
        + ",\n".join("    " + line for line in lines)
        + "\n  ]\n}\n",
        encoding="utf-8",
    )
