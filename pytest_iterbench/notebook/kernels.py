"""Warm Jupyter kernels: started ahead of need, killed the moment a notebook is done.

Starting an IPython kernel costs about half a second of CPU, and a graceful
shutdown now and then stalls for seconds. Validating many notebooks one
kernel at a time is dominated by that, so ``KernelPool``:

- keeps ``size`` kernels starting in the background, each already connected
  and answering (``wait_for_ready``) by the time a notebook asks for one;
- starts the replacement as soon as one is taken;
- kills a used kernel (SIGKILL, no shutdown handshake) without making the next
  notebook wait for it. A kernel is never reused: each notebook gets a fresh one.

Everything asynchronous lives on one event loop in a daemon thread (kernel
clients are bound to the loop they were made on); synchronous callers use
``run``. Kernels talk over IPC sockets in a private temporary folder.

>>> with KernelPool(size=2) as pool:  # doctest: +SKIP
...     kernel = pool.run(pool.acquire())
...     pool.release(kernel)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from pytest_iterbench.notebook.defaults import DEFAULT_KERNEL
from pytest_iterbench.notebook.errors import KernelMissing, NotebookProcessorError

T = TypeVar("T")
STARTUP_TIMEOUT = 60.0
# A history database per kernel is a file write and a thread we do not need.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)


def installed_kernels() -> list[str]:
    """The names of the Jupyter kernels installed here, sorted."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def notebook_kernel(metadata: Any, chosen: str | None = None) -> str:
    """The kernel a notebook runs on: ``chosen`` (``--kernel``), else its kernelspec's, else python3."""
    if chosen:
        return chosen
    spec = metadata.get("kernelspec") if hasattr(metadata, "get") else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return str(name) if name else DEFAULT_KERNEL


def check_kernels(wanted: dict[str, list[str]]) -> None:
    """``KernelMissing`` naming each missing kernel, who asked for it, and the installed ones.

    ``wanted`` maps a kernel name to the notebooks (or ``--kernel``) asking for it.
    """
    installed = installed_kernels()
    missing = {name: who for name, who in wanted.items() if name not in installed}
    if missing:
        asked = "; ".join(
            f"kernel {name!r} (asked by {', '.join(who)})" for name, who in sorted(missing.items())
        )
        raise KernelMissing(
            f"{asked} is not installed; installed kernels: {', '.join(installed) or 'none'} "
            "(install it, or choose one with --kernel NAME)"
        )


class LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self, name: str = "iterbench-kernels") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coroutine).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@dataclass(eq=False)  # compared by identity: each is one process
class WarmKernel:
    """A started kernel with a connected client that has answered ``kernel_info``."""

    manager: AsyncKernelManager
    client: AsyncKernelClient
    kernel_name: str
    start_seconds: float


@dataclass
class PoolStats:
    """What the pool did: kernels started and how long each took to answer."""

    started: int = 0
    killed: int = 0
    start_seconds: list[float] = field(default_factory=list)
    waited_seconds: list[float] = field(default_factory=list)  # a notebook waiting for a kernel


class KernelPool:
    """Fresh kernels kept ready ahead of need (see the module docstring).

    ``size`` is how many kernels start ahead; 0 starts each on demand (one
    notebook, nothing to overlap with).
    """

    def __init__(
        self,
        kernel_name: str = DEFAULT_KERNEL,
        size: int = 2,
        startup_timeout: float = STARTUP_TIMEOUT,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.kernel_name = kernel_name
        self.environment = environment  # the kernels' environment; None: this process's
        self.size = max(0, size)
        self.startup_timeout = startup_timeout
        self.stats = PoolStats()
        self._threads: LoopThread | None = None
        self._context: zmq.asyncio.Context | None = None
        self._folder: str | None = None
        self._warming: deque[asyncio.Task[WarmKernel]] = deque()
        self._disposals: set[asyncio.Task[None]] = set()
        self._lent: list[WarmKernel] = []  # acquired, not yet released
        self._counter = itertools.count()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def loop_thread(self) -> LoopThread:
        if self._threads is None:
            self._folder = tempfile.mkdtemp(prefix="ib-kernels-")
            self._threads = LoopThread()
        return self._threads

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the pool's loop and wait for its result."""
        return self.loop_thread.run(coroutine, timeout)

    def warm(self) -> None:
        """Start the kernels ahead now (the next ``acquire`` finds them booting or ready)."""
        self.loop_thread.loop.call_soon_threadsafe(self._fill)

    async def acquire(self, kernel_name: str | None = None) -> WarmKernel:
        """A ready kernel for one notebook; its replacement starts at once.

        ``kernel_name`` other than the pool's own (a notebook's kernelspec)
        starts one of that kernel on demand.
        """
        waited = time.perf_counter()
        if kernel_name is not None and kernel_name != self.kernel_name:
            task = asyncio.get_running_loop().create_task(self._start(kernel_name))
        else:
            task = self._warming.popleft() if self._warming else self._start_task()
            self._fill()
        kernel = await task
        self.stats.waited_seconds.append(time.perf_counter() - waited)
        self._lent.append(kernel)
        return kernel

    def release(self, kernel: WarmKernel) -> None:
        """Kill a used kernel in the background; call on the pool's loop."""
        if kernel in self._lent:
            self._lent.remove(kernel)
        task = asyncio.get_running_loop().create_task(self._dispose(kernel))
        self._disposals.add(task)
        task.add_done_callback(self._disposals.discard)

    def _fill(self) -> None:
        while len(self._warming) < self.size:
            self._warming.append(self._start_task())

    def _start_task(self) -> asyncio.Task[WarmKernel]:
        return asyncio.get_running_loop().create_task(self._start())

    def _zmq_context(self) -> zmq.asyncio.Context:
        if self._context is None:
            self._context = zmq.asyncio.Context()
        return self._context

    async def _start(self, kernel_name: str | None = None) -> WarmKernel:
        started = time.perf_counter()
        name = kernel_name or self.kernel_name
        assert self._folder is not None
        manager = AsyncKernelManager(
            kernel_name=name,
            transport="ipc",
            ip=os.path.join(self._folder, f"k{next(self._counter)}"),
            context=self._zmq_context(),
        )
        client: AsyncKernelClient | None = None
        try:
            launch: dict[str, Any] = {} if self.environment is None else {"env": self.environment}
            await manager.start_kernel(
                extra_arguments=list(KERNEL_ARGUMENTS), cwd=self._folder, **launch
            )
            client = manager.client(context=self._zmq_context())
            client.start_channels()
            await client.wait_for_ready(timeout=self.startup_timeout)
        except BaseException as exc:  # cancelled by close() too: never leave a kernel behind
            if client is not None:
                client.stop_channels()
            with contextlib.suppress(Exception):
                await manager.shutdown_kernel(now=True)
            if not isinstance(exc, Exception):
                raise
            raise NotebookProcessorError(
                f"cannot start the Jupyter kernel {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        client.allow_stdin = False  # input() raises at once instead of waiting for an answer
        self.stats.started += 1
        seconds = time.perf_counter() - started
        self.stats.start_seconds.append(seconds)
        return WarmKernel(manager, client, name, seconds)

    async def _dispose(self, kernel: WarmKernel) -> None:
        kernel.client.stop_channels()
        with contextlib.suppress(Exception):  # already dead is fine
            await kernel.manager.shutdown_kernel(now=True)
        self.stats.killed += 1

    async def _drain(self) -> None:
        warming, self._warming = list(self._warming), deque()
        for task in warming:
            task.cancel()
        for outcome in await asyncio.gather(*warming, return_exceptions=True):
            if isinstance(outcome, WarmKernel):
                await self._dispose(outcome)
        lent, self._lent = self._lent, []
        for kernel in lent:  # a run abandoned mid-way (an interrupted session)
            await self._dispose(kernel)
        await asyncio.gather(*list(self._disposals), return_exceptions=True)

    def close(self) -> None:
        """Kill every kernel, stop the loop, remove the socket folder."""
        if self._threads is None:
            return
        self._threads.run(self._drain())
        self._threads.close()
        self._threads = None
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
