"""The notebook processor's defaults and choices, in a module light enough for ``--help``.

The command line's parser reads them without importing nbconvert, nbclient
or a Jupyter client; the modules that use them import them from here.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

DEFAULT_KERNEL = "python3"
DEFAULT_CELL_TIMEOUT = 600.0
SolverName = Literal["files", "claude-api"]
SOLVER_NAMES: tuple[SolverName, ...] = get_args(SolverName)
#: The metrics ``--alternatives`` can judge by, as metrics.json entries without their id.
BUILTIN_METRICS: dict[str, dict[str, Any]] = {
    "checks_passed": {
        "type": "ml_quality",
        "class": "pytest_iterbench.notebook.checks_metric.ChecksPassedMetric",
        "higher_is_better": True,
        "unit": "",
        "name": "Share of the exercise's checks that pass",
    },
    "exec_time": {
        "type": "performance",
        "class": "pytest_iterbench.metrics.ExecutionTimeMetric",
        "higher_is_better": False,
        "unit": "seconds",
        "name": "Execution time of the notebook's code up to the checks",
    },
    "peak_memory": {
        "type": "performance",
        "class": "pytest_iterbench.metrics.PeakMemoryMetric",
        "higher_is_better": False,
        "unit": "MB",
        "name": "Peak memory",
    },
    "accuracy": {
        "type": "ml_quality",
        "class": "pytest_iterbench.metrics.AccuracyMetric",
        "higher_is_better": True,
        "unit": "%",
        "name": "Accuracy of y_pred against y_true",
    },
    "f1_macro": {
        "type": "ml_quality",
        "class": "pytest_iterbench.metrics.F1MacroMetric",
        "higher_is_better": True,
        "unit": "",
        "name": "Macro F1 of y_pred against y_true",
    },
}
DEFAULT_METRICS = ("checks_passed", "exec_time")
