"""A notebook as an iteration's entry point: parameters in, ``outputs`` dict back.

The harness calls ``run_notebook_iteration`` for an iteration whose entry
point is an ``.ipynb``. Following papermill's convention, the parameters go
into a new cell tagged ``injected-parameters`` right after the cell tagged
``parameters`` (at the top when there is none), so they override its defaults.
The notebook must leave a dict named ``outputs``: a last cell, appended for the
run, pickles it to a temporary file that is read back here.

>>> run_notebook_iteration(Path("main.ipynb"), {"C": 0.5}, timeout=600, cwd=Path("."))  # doctest: +SKIP
{'y_true': [...], 'y_pred': [...]}
"""

from __future__ import annotations

import copy
import pickle
import tempfile
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from pytest_iterbench.notebook.errors import CellExecutionFailed, NotebookOutputsMissing
from pytest_iterbench.notebook.kernels import KernelPool
from pytest_iterbench.notebook.nbio import code_cell, read_notebook
from pytest_iterbench.notebook.runner import NotebookRun, execute_notebook
from pytest_iterbench.secrets import child_environment

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
_MISSING = "__iterbench_no_outputs__"


def parameters_source(parameters: dict[str, Any]) -> str:
    """The injected cell's code: one assignment per parameter (JSON values are Python literals).

    >>> parameters_source({"C": 0.5, "name": "lr"})
    "# Parameters\\nC = 0.5\\nname = 'lr'\\n"
    """
    lines = [f"{name} = {value!r}" for name, value in parameters.items()]
    return "# Parameters\n" + "".join(f"{line}\n" for line in lines)


def inject_parameters(nb: NotebookNode, parameters: dict[str, Any]) -> NotebookNode:
    """A copy of ``nb`` with an ``injected-parameters`` cell after the ``parameters`` cell.

    An earlier injected cell (the notebook was saved after a papermill run) is replaced.
    """
    injected = copy.deepcopy(nb)
    injected.cells = [
        c for c in injected.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    position = next(
        (
            i + 1
            for i, c in enumerate(injected.cells)
            if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])
        ),
        0,
    )
    cell = code_cell(parameters_source(parameters), metadata={"tags": [INJECTED_TAG]})
    injected.cells.insert(position, cell)
    return injected


def _collector_source(result_path: Path) -> str:
    return (
        "import pickle as __ib_pickle\n"
        f"with open({str(result_path)!r}, 'wb') as __ib_file:\n"
        f"    __ib_pickle.dump(globals().get('outputs', {_MISSING!r}), __ib_file)\n"
        "del __ib_pickle, __ib_file\n"
    )


def _raise_for_failure(run: NotebookRun, path: Path, parameters_at: int) -> None:
    failure = run.failure
    if failure is None:
        return
    index = failure.cell_index
    if index == len(run.nb.cells) - 1:  # the appended cell that pickles ``outputs``
        raise NotebookOutputsMissing(
            f"'outputs' cannot be sent back (it must pickle): {failure.ename}: {failure.evalue}",
            notebook=path,
        )
    # Report cell numbers of the user's notebook, not of the one with the injected cell.
    original = index if index < parameters_at else index - 1
    raise CellExecutionFailed(
        f"{failure.summary()}"
        + (f"; failing line: {failure.failing_line()}" if failure.failing_line() else ""),
        kind=failure.kind,
        notebook=path,
        cell_index=original if index != parameters_at else None,
        ename=failure.ename,
        evalue=failure.evalue,
        traceback=failure.traceback,
    )


def _read_outputs(result_path: Path, path: Path) -> dict[str, Any]:
    with result_path.open("rb") as handle:
        outputs = pickle.load(handle)
    if isinstance(outputs, str) and outputs == _MISSING:
        raise NotebookOutputsMissing(
            "the notebook defines no variable named 'outputs'; end it with outputs = {...} "
            "(a dict: the iteration's outputs, e.g. y_true and y_pred)",
            notebook=path,
        )
    if not isinstance(outputs, dict):
        raise NotebookOutputsMissing(
            f"'outputs' must be a dict, found {type(outputs).__name__}", notebook=path
        )
    return outputs


def run_notebook_iteration(
    path: Path,
    parameters: dict[str, Any],
    *,
    timeout: float | None,
    cwd: Path,
    pool: KernelPool | None = None,
) -> dict[str, Any]:
    """Execute the notebook at ``path`` with ``parameters``; return its ``outputs`` dict.

    ``timeout`` bounds the whole notebook (seconds, None for no limit); the
    notebook runs in ``cwd`` on a fresh kernel (from ``pool`` when given).
    A failing cell raises ``CellExecutionFailed`` naming the notebook and the
    cell; a notebook without an ``outputs`` dict raises ``NotebookOutputsMissing``.
    """
    path = Path(path)
    nb = inject_parameters(read_notebook(path), parameters)
    parameters_at = next(
        i for i, c in enumerate(nb.cells) if INJECTED_TAG in c.metadata.get("tags", [])
    )
    own_pool = pool is None
    active = pool or KernelPool(size=0, environment=child_environment())  # no secrets
    try:
        with tempfile.TemporaryDirectory(prefix="iterbench-nb-") as folder:
            result_path = Path(folder) / "outputs.pickle"
            nb.cells.append(code_cell(_collector_source(result_path)))
            run = active.run(
                execute_notebook(
                    nb, active, cwd=Path(cwd).resolve(), cell_timeout=timeout, total_timeout=timeout
                )
            )
            _raise_for_failure(run, path, parameters_at)
            return _read_outputs(result_path, path)
    finally:
        if own_pool:
            active.close()
