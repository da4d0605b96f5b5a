"""The runner of ``.ipynb`` entry points, offered to the executor through the plugin hook.

The plugin registers this module (a pytest plugin) when a run has a notebook
iteration; its ``pytest_iterbench_entry_point_runner`` returns
:func:`run_notebook` for ``.ipynb``. The executor knows nothing of notebooks.
"""

from __future__ import annotations

import time

import pytest

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.execution.executor import EntryPointRunner
from pytest_iterbench.execution.isolation import ExecutionRequest, RawOutcome
from pytest_iterbench.notebook.errors import CellExecutionFailed
from pytest_iterbench.notebook.notebook_iteration import run_notebook_iteration

NOTEBOOK_SUFFIX = ".ipynb"


def run_notebook(request: ExecutionRequest) -> RawOutcome:
    """A notebook entry point: parameters injected (papermill's convention), ``outputs`` read back.

    The notebook runs in a Jupyter kernel of its own, started from this process:
    its wall time is measured, its memory is not (the kernel is another process).
    """
    if request.timing is not None:
        return RawOutcome(
            "error",
            reason="TimingMetric times run() of Python entry points; a notebook iteration is timed once, by exec_time",
        )
    started = time.perf_counter()
    path = request.directory / request.entry_point
    try:
        outputs = run_notebook_iteration(
            path, request.parameters, timeout=request.timeout, cwd=request.directory
        )
    except CellExecutionFailed as exc:
        request.log_path.write_text(str(exc), encoding="utf-8")
        return RawOutcome("timeout" if exc.kind == "timeout" else "error", reason=str(exc))
    except IterbenchError as exc:
        return RawOutcome("error", reason=str(exc))
    wall = time.perf_counter() - started
    timings = {"wall_seconds": wall, "run_seconds": wall, "import_seconds": 0.0}
    return RawOutcome("ok", result={"outputs": outputs, "timings": timings, "resources": {}})


@pytest.hookimpl(trylast=True)
def pytest_iterbench_entry_point_runner(suffix: str) -> EntryPointRunner | None:
    """``.ipynb``: :func:`run_notebook` (trylast: another plugin's runner wins)."""
    return run_notebook if suffix == NOTEBOOK_SUFFIX else None
