"""pytest-iterbench: compare alternative solutions of an ML task on metrics, from pytest.

The public API; everything here is re-exported from the module that owns it.

The names are imported when first used (PEP 562): pytest imports this package
for its plugin module in every process, xdist workers included, and those
should not pay for the report and the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
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

_OWNERS = {
    "BaseMetric": "pytest_iterbench.metrics.base",
    "Execution": "pytest_iterbench.execution.executor",
    "ExecutionFailed": "pytest_iterbench.errors",
    "GateResult": "pytest_iterbench.report.gate",
    "GpuUnavailableError": "pytest_iterbench.errors",
    "Iteration": "pytest_iterbench.workspace.model",
    "IterbenchError": "pytest_iterbench.errors",
    "MetricDefinition": "pytest_iterbench.workspace.model",
    "MetricResult": "pytest_iterbench.metrics.base",
    "MetricSkipped": "pytest_iterbench.errors",
    "Problem": "pytest_iterbench.errors",
    "ResultRecord": "pytest_iterbench.results.records",
    "RunDefinition": "pytest_iterbench.workspace.model",
    "Workspace": "pytest_iterbench.workspace.loader",
    "WorkspaceError": "pytest_iterbench.errors",
    "compare_sessions": "pytest_iterbench.report.gate",
    "execute_run": "pytest_iterbench.api",
    "generate_report": "pytest_iterbench.api",
    "load_iterations": "pytest_iterbench.api",
    "load_metrics": "pytest_iterbench.api",
    "load_runs": "pytest_iterbench.api",
    "requires_gpu": "pytest_iterbench.metrics.base",
    "timed": "pytest_iterbench.metrics.base",
    "write_reports": "pytest_iterbench.report.writer",
}

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


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)
