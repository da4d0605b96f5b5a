"""Where everything lives in a workspace folder: one spelling of each path.

The user's files (``iterations.json``, ``metrics.json``, ``runs.json``), what
the harness keeps for them (``results.json``, ``reports/``, ``plan.json``,
``state.json``) and ``.iterbench/``, the harness's own folder (journals,
locks, indexes, per-session scratch, traces, notebook work folders), which is
never needed to rebuild a report.

>>> paths = WorkspacePaths(Path("/w"))
>>> paths.results.as_posix(), paths.journal_dir.as_posix()
('/w/results.json', '/w/.iterbench/journal')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ITERATIONS_FILE = "iterations.json"
METRICS_FILE = "metrics.json"
RUNS_FILE = "runs.json"
RESULTS_FILE = "results.json"
PLAN_FILE = "plan.json"
STATE_FILE = "state.json"
STATE_DIR = ".iterbench"
REPORTS_DIR = "reports"
METRIC_TESTS_DIR = "metrics"
REPORT_FILE = "comparison_report.md"
HTML_REPORT_FILE = "comparison_report.html"


@dataclass(frozen=True)
class WorkspacePaths:
    """The paths of one workspace, from its root folder."""

    root: Path

    @property
    def iterations(self) -> Path:
        return self.root / ITERATIONS_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def runs(self) -> Path:
        return self.root / RUNS_FILE

    @property
    def metric_tests_dir(self) -> Path:
        """The workspace's own metric classes and metric tests, collected when no path is given."""
        return self.root / METRIC_TESTS_DIR

    @property
    def results(self) -> Path:
        return self.root / RESULTS_FILE

    @property
    def plan(self) -> Path:
        return self.root / PLAN_FILE

    @property
    def state(self) -> Path:
        return self.root / STATE_FILE

    @property
    def state_lock(self) -> Path:
        """The lock around ``state.json``'s read-modify-write."""
        return self.state_dir / "state.json.lock"

    @property
    def reports_dir(self) -> Path:
        return self.root / REPORTS_DIR

    @property
    def report(self) -> Path:
        return self.reports_dir / REPORT_FILE

    @property
    def html_report(self) -> Path:
        return self.reports_dir / HTML_REPORT_FILE

    @property
    def state_dir(self) -> Path:
        """``.iterbench/``: the harness's own files, never needed to rebuild a report."""
        return self.root / STATE_DIR

    @property
    def journal_dir(self) -> Path:
        """Each session's journal of records, until it is folded into ``results.json``."""
        return self.state_dir / "journal"

    @property
    def results_lock(self) -> Path:
        return self.state_dir / "results.lock"

    @property
    def index_dir(self) -> Path:
        """Derived data rebuilt from ``results.json`` alone when missing or stale."""
        return self.state_dir / "index"

    @property
    def sessions_dir(self) -> Path:
        """Per-session scratch: executions shared by xdist workers, iteration logs."""
        return self.state_dir / "sessions"

    @property
    def traces_dir(self) -> Path:
        """The LLM layer's traces, one JSONL file per day."""
        return self.state_dir / "traces"

    @property
    def kernel_dir(self) -> Path:
        """The local planner model's data sets and trained adapters."""
        return self.state_dir / "kernel"

    @property
    def notebooks_dir(self) -> Path:
        """The notebook processor's work folders."""
        return self.state_dir / "notebooks"

    @property
    def events_dir(self) -> Path:
        """Event streams that a live view follows (orchestrator, studio)."""
        return self.state_dir / "events"

    @property
    def orchestrator_dir(self) -> Path:
        """The orchestrator's logs (benchmark output) and smoke-check scratch."""
        return self.state_dir / "orchestrator"

    @property
    def studio_dir(self) -> Path:
        """The studio's lock and the record of who holds the workspace's one studio session."""
        return self.state_dir / "studio"

    def session_scratch(self, session_id: str) -> Path:
        return self.sessions_dir / session_id
