"""pytest-iterbench: compare alternative solutions of an ML task on metrics, from pytest.

The public API; everything here is re-exported from the module that owns it.
"""

from __future__ import annotations

from pytest_iterbench.api import (
    execute_run,
    generate_report,
    load_iterations,
    load_metrics,
    load_runs,
)
from pytest_iterbench.errors import (
    ExecutionFailed,
    GpuUnavailableError,
    IterbenchError,
    MetricSkipped,
    Problem,
    WorkspaceError,
)
from pytest_iterbench.execution.executor import Execution
from pytest_iterbench.metrics.base import BaseMetric, MetricResult, requires_gpu, timed
from pytest_iterbench.report.gate import GateResult, compare_sessions
from pytest_iterbench.report.writer import write_reports
from pytest_iterbench.results.records import ResultRecord
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition

__all__ = [
    "BaseMetric",
    "Execution",
    "ExecutionFailed",
    "GateResult",
    "GpuUnavailableError",
    "Iteration",
    "IterbenchError",
    "MetricDefinition",
    "MetricResult",
    "MetricSkipped",
    "Problem",
    "ResultRecord",
    "RunDefinition",
    "Workspace",
    "WorkspaceError",
    "compare_sessions",
    "execute_run",
    "generate_report",
    "load_iterations",
    "load_metrics",
    "load_runs",
    "requires_gpu",
    "timed",
    "write_reports",
]
