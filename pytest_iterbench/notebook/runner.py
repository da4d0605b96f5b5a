"""Execute one notebook on a pooled kernel, with nbclient; failures become data.

A run never hangs on a cell waiting for a person: ``input()`` and
``getpass()`` raise at once (the kernel is told no stdin is available), and a
cell that waits on a widget (``ui_events()``, ``wait_for_change()``, pumping
the kernel by hand) is refused before the kernel starts. A cell that runs
longer than the cell timeout is stopped and its kernel killed.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from pytest_iterbench.notebook.defaults import DEFAULT_CELL_TIMEOUT
from pytest_iterbench.notebook.kernels import KernelPool, WarmKernel

FailureKind = Literal["error", "timeout", "input", "interactive", "kernel-died", "expected-output"]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW = re.compile(r"^-*>\s*(\d+)\s(.*)$", re.M)
_WIDGET_WAITS = (
    (re.compile(r"\bui_events\s*\("), "waits on widget events (jupyter_ui_poll.ui_events)"),
    (re.compile(r"\bwait_for_change\s*\("), "waits for a widget to change (wait_for_change)"),
    (re.compile(r"\bdo_one_iteration\s*\("), "pumps the kernel by hand to wait for the front end"),
)
_STDIN_ERRORS = ("StdinNotImplementedError",)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class CellFailure:
    """Why and where a notebook run stopped."""

    cell_index: int
    kind: FailureKind
    ename: str
    evalue: str
    traceback: str
    source: str

    def failing_line(self) -> str | None:
        """The cell's line the traceback points at (``assert squares(3) == 9``), if any."""
        match = _ARROW.search(self.traceback)
        return match.group(2).strip() if match else None

    def summary(self) -> str:
        """One line: what happened, in words a person acts on."""
        if self.kind == "timeout":
            return f"did not finish in time ({self.evalue}); the kernel was killed"
        if self.kind == "input":
            return "calls input() (or getpass), which a batch run cannot answer; remove the call or set the value in code"
        if self.kind == "interactive":
            return f"{self.evalue}: a batch run has no front end to answer; refused before running"
        if self.kind == "expected-output":
            return self.evalue
        if self.kind == "kernel-died":
            return f"the kernel died while running it ({self.evalue})"
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename


@dataclass
class NotebookRun:
    """An executed notebook (outputs filled in as far as it got) and its failure, if any."""

    nb: NotebookNode
    failure: CellFailure | None
    seconds: float
    kernel_wait_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


def find_interactive_wait(nb: NotebookNode) -> tuple[int, str] | None:
    """The first code cell that would wait on a widget, and why; None when there is none."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for pattern, reason in _WIDGET_WAITS:
            if pattern.search(cell.source):
                return index, reason
    return None


class _Tracker:
    """Remembers which cell nbclient is running, for timeouts and dead kernels."""

    def __init__(self) -> None:
        self.cell_index = 0

    def on_cell_start(self, cell: NotebookNode, cell_index: int, **_: Any) -> None:
        self.cell_index = cell_index

    def on_cell_executed(self, cell: NotebookNode, execute_reply: Any = None, **_: Any) -> None:
        """A cell whose output holds an error failed, whatever its reply said (as nbmake does).

        ``%run script.py`` shows the script's exception as an error output but
        replies ``ok``; nbclient's own check then raises unless the cell is
        tagged ``raises-exception`` or errors are allowed.
        """
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors or not isinstance(execute_reply, dict):
            return
        content = execute_reply.setdefault("content", {})
        if content.get("status") != "error":
            content.update(
                status="error",
                ename=errors[0].get("ename", "Error"),
                evalue=errors[0].get("evalue", ""),
                traceback=list(errors[0].get("traceback", [])),
            )


def _failure(
    nb: NotebookNode, index: int, kind: FailureKind, ename: str, evalue: str, tb: str
) -> CellFailure:
    source = nb.cells[index].source if 0 <= index < len(nb.cells) else ""
    return CellFailure(index, kind, ename, evalue, strip_ansi(tb), source)


def error_outputs(nb: NotebookNode) -> list[CellFailure]:
    """Each cell's first error output, in order: the errors a run let pass (allowed or tagged)."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                kind: FailureKind = "input" if output.get("ename") in _STDIN_ERRORS else "error"
                tb = "\n".join(output.get("traceback", []))
                found.append(
                    _failure(nb, index, kind, output.get("ename", ""), output.get("evalue", ""), tb)
                )
                break
    return found


def cell_timeout_seconds(value: float | None) -> int | None:
    """nbclient's per-cell timeout: none for None, zero or a negative value (as nbclient reads them)."""
    if value is None or value <= 0:
        return None
    return int(max(1, round(value)))


async def _enter_folder(kernel: WarmKernel, cwd: Path) -> None:
    """Pooled kernels start in a scratch folder; the notebook's own folder is where it runs."""
    code = f"import os as __ib_os; __ib_os.chdir({str(cwd)!r}); del __ib_os"
    await kernel.client.execute_interactive(
        code, silent=True, store_history=False, timeout=30, output_hook=lambda _msg: None
    )


def _client(
    nb: NotebookNode, kernel: WarmKernel, cell_timeout: float | None, allow_errors: bool
) -> NotebookClient:
    client = NotebookClient(
        nb,
        km=kernel.manager,
        kernel_name=kernel.kernel_name,
        timeout=cell_timeout_seconds(cell_timeout),
        allow_errors=allow_errors,
        record_timing=False,
        shutdown_kernel="immediate",
    )
    client.kc = kernel.client  # connected and ready already: nbclient skips its own start
    return client


async def execute_notebook(
    nb: NotebookNode,
    pool: KernelPool,
    *,
    cwd: Path,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    total_timeout: float | None = None,
    allow_errors: bool = False,
    kernel_name: str | None = None,
) -> NotebookRun:
    """Run every cell of ``nb`` (in place) on a fresh kernel from ``pool``; call on its loop.

    ``kernel_name`` (a notebook's kernelspec) defaults to the pool's kernel.
    With ``allow_errors`` (or in a cell tagged ``raises-exception``) an error
    does not stop the run and is no failure here: :func:`error_outputs` lists
    them, and the caller judges which were expected.
    """
    started = time.perf_counter()
    waiting = find_interactive_wait(nb)
    if waiting is not None:
        refused = _failure(nb, waiting[0], "interactive", "InteractiveWait", waiting[1], "")
        return NotebookRun(nb, refused, time.perf_counter() - started)
    kernel = await pool.acquire(kernel_name)
    waited = time.perf_counter() - started
    tracker = _Tracker()
    try:
        await _enter_folder(kernel, cwd)
        client = _client(nb, kernel, cell_timeout, allow_errors)
        client.on_cell_start = tracker.on_cell_start
        client.on_cell_executed = tracker.on_cell_executed
        failure = await _run(client, nb, tracker, total_timeout)
    finally:
        pool.release(kernel)
    return NotebookRun(nb, failure, time.perf_counter() - started, waited)


async def _run(
    client: NotebookClient, nb: NotebookNode, tracker: _Tracker, total: float | None
) -> CellFailure | None:
    running = asyncio.ensure_future(client.async_execute())
    done, _ = await asyncio.wait({running}, timeout=total)
    if not done:  # the notebook's own deadline: stop it here, whatever nbclient makes of that
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        return _failure(
            nb, tracker.cell_index, "timeout", "TimeoutError", f"notebook timeout {total:g} s", ""
        )
    try:
        running.result()
    except CellTimeoutError as exc:
        return _failure(
            nb,
            tracker.cell_index,
            "timeout",
            "CellTimeoutError",
            f"cell timeout {client.timeout} s",
            str(exc),
        )
    except TimeoutError as exc:  # nbclient's own waits (IOPub, replies)
        return _failure(nb, tracker.cell_index, "timeout", "TimeoutError", str(exc), "")
    except CellExecutionError as exc:
        kind: FailureKind = "input" if exc.ename in _STDIN_ERRORS else "error"
        return _failure(nb, tracker.cell_index, kind, exc.ename, exc.evalue, exc.traceback)
    except DeadKernelError as exc:
        return _failure(nb, tracker.cell_index, "kernel-died", "DeadKernelError", str(exc), "")
    return None
