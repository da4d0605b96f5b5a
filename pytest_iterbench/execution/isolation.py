"""Isolated execution of iteration entry points, through a process template.

``ProcessTemplate`` starts ``template_process.py`` once (a warm interpreter with
the heavy modules pre-imported) and asks it to fork a fresh child for every
execution. The parent enforces the timeout (it kills the child's whole process
group) and reads back the child's pickled result; the memory limit is applied
inside the child. Crashes, exits and signals become ``RawOutcome`` values,
never exceptions, so the session carries on.

Why not ``multiprocessing``'s forkserver with ``set_forkserver_preload``, which
also forks children from a warm server: the harness needs, per child, its own
process group (so a timeout kills the iteration's grandchildren too), its
stdout and stderr redirected to a log file at the file-descriptor level (C
extensions print there), ``RLIMIT_AS`` set before the entry point runs, the
peak RSS of the child alone (``ru_maxrss`` read in the child, which Linux resets
at fork), and a death by signal or ``os._exit`` told apart from an exception.
A forkserver child is a ``multiprocessing`` worker whose result comes back
over a pipe that dies with it, and its preload imports the harness's parent
modules (pytest included) into the server; ``template_process.py`` imports the
standard library only, plus what the iterations import.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.execution.template_process import ChildResult
from pytest_iterbench.secrets import child_environment

TEMPLATE_SCRIPT = Path(__file__).with_name("template_process.py")
START_TIMEOUT = 120.0  # seconds for the template to start and pre-import its modules
MAX_TIMEOUT = 1e7  # seconds (about four months); a longer timeout is no timeout
Status = Literal["ok", "error", "timeout"]


def usable_timeout(timeout: float | None) -> float | None:
    """A timeout ``select`` can wait for; None (no limit) for 0, negative, NaN, infinite or huge ones.

    >>> usable_timeout(float("inf")), usable_timeout(0), usable_timeout(2.5)
    (None, None, 2.5)
    """
    if timeout is None or not math.isfinite(timeout) or timeout <= 0 or timeout > MAX_TIMEOUT:
        return None
    return float(timeout)


@dataclass(frozen=True)
class ExecutionRequest:
    """What one isolated execution needs; plain data, sent as JSON to the template."""

    directory: Path
    entry_point: str
    parameters: dict[str, Any]
    result_path: Path
    log_path: Path
    timeout: float | None = None
    memory_limit_mb: float | None = None
    extra_path: tuple[str, ...] = ()
    thread_cap: int | None = None
    timing: dict[str, Any] | None = None  # a TimingPlan: time run() in rounds instead of one call

    def to_json(self) -> dict[str, Any]:
        return {
            "op": "execute",
            "directory": str(self.directory),
            "entry_point": self.entry_point,
            "parameters": self.parameters,
            "result_path": str(self.result_path),
            "log_path": str(self.log_path),
            "memory_limit_mb": self.memory_limit_mb,
            "extra_path": list(self.extra_path),
            "thread_cap": self.thread_cap,
            "timing": self.timing,
        }


@dataclass(frozen=True)
class RawOutcome:
    """What came back from one child: its result dict, or why there is none."""

    status: Status
    result: ChildResult = field(default_factory=lambda: ChildResult())
    reason: str | None = None
    pid: int | None = None


class _LineChannel:
    """Reads JSON lines from a pipe with a deadline."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""

    def read(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or None when the deadline passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise EOFError("the process template exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message


class ProcessTemplate:
    """A warm interpreter that forks one isolated child per execution.

    >>> template = ProcessTemplate(preload=["numpy"])  # doctest: +SKIP
    >>> outcome = template.execute(request)  # doctest: +SKIP
    >>> template.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        preload: list[str],
        sys_path: list[str] | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.preload = list(preload)
        self.environment = dict(environment or {})
        self.sys_path = list(sys.path if sys_path is None else sys_path)
        self.preloaded: list[str] = []
        self.preload_failed: dict[str, str] = {}
        self.start_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: _LineChannel | None = None
        self._launched: tuple[subprocess.Popen[bytes], _LineChannel, float] | None = None

    def launch(self) -> None:
        """Start the template now and let it pre-import while the caller goes on; the first execution waits for it.

        A template that cannot even be spawned here is left to the first
        execution, which starts it again and reports why it fails.
        """
        if self._launched is not None or self._process is not None:
            return
        with contextlib.suppress(OSError):
            self._launched = self._spawn()

    def _start(self) -> tuple[subprocess.Popen[bytes], _LineChannel]:
        return self._await_ready(*self._spawn())

    def _spawn(self) -> tuple[subprocess.Popen[bytes], _LineChannel, float]:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-P", str(TEMPLATE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # No secrets for user code; thread caps, read when BLAS loads.
            env={**child_environment(), **self.environment},
            start_new_session=True,  # Ctrl-C in the terminal reaches pytest, which cleans up
        )
        assert process.stdin is not None
        assert process.stdout is not None
        channel = _LineChannel(process.stdout)
        sys_path = [entry for entry in self.sys_path if entry]
        process.stdin.write(
            (json.dumps({"sys_path": sys_path, "preload": self.preload}) + "\n").encode()
        )
        process.stdin.flush()
        return process, channel, started

    def _await_ready(
        self, process: subprocess.Popen[bytes], channel: _LineChannel, started: float
    ) -> tuple[subprocess.Popen[bytes], _LineChannel]:
        try:
            ready = channel.read(START_TIMEOUT)
        except EOFError as exc:
            raise IterbenchError(
                f"the process template failed to start (exit code {process.wait()})"
            ) from exc
        if ready is None:
            process.kill()
            raise IterbenchError(
                f"the process template did not start within {START_TIMEOUT:g} s (pre-importing {self.preload})"
            )
        self.preloaded = ready["preloaded"]
        self.preload_failed = ready["preload_failed"]
        self.start_seconds = time.perf_counter() - started
        self._process, self._channel = process, channel
        return process, channel

    def _ensure_started(self) -> tuple[subprocess.Popen[bytes], _LineChannel]:
        if self._process is not None and self._channel is not None and self._process.poll() is None:
            return self._process, self._channel
        launched, self._launched = self._launched, None
        if launched is not None:
            return self._await_ready(*launched)
        return self._start()

    def execute(self, request: ExecutionRequest) -> RawOutcome:
        """Run one entry point in a fresh child; never raises for the child's failures.

        An iteration that kills the template itself gets an ``error`` outcome;
        the template starts again for the next execution.
        """
        process, channel = self._ensure_started()
        with contextlib.suppress(FileNotFoundError):
            request.result_path.unlink()
        pid: int | None = None
        try:
            _write_line(process, request.to_json())
            started = channel.read(START_TIMEOUT)
            if started is None:
                raise IterbenchError("the process template did not fork a child in time")
            pid = int(started["pid"])
            timeout = usable_timeout(request.timeout)
            exited = channel.read(timeout)
            if exited is None:
                return self._timed_out(channel, pid, timeout)
        except (EOFError, OSError):
            return self._template_died(pid)
        except BaseException:
            # Never leave the protocol half-way: the next request would misread the replies.
            self._abandon(pid)
            raise
        return self._outcome(request, exited, pid)

    def _timed_out(self, channel: _LineChannel, pid: int, timeout: float | None) -> RawOutcome:
        _kill_group(pid)
        if channel.read(START_TIMEOUT) is None:
            self._abandon(pid)
        return RawOutcome(
            "timeout", reason=f"exceeded the timeout of {timeout:g} s and was killed", pid=pid
        )

    def _template_died(self, pid: int | None) -> RawOutcome:
        process = self._process
        self._abandon(pid)
        code = process.returncode if process is not None else None
        how = (
            f"killed by {_signal_name(-code)}"
            if code is not None and code < 0
            else f"exit code {code}"
        )
        return RawOutcome(
            "error",
            reason=f"the process template died while running the iteration ({how}; did the iteration "
            "kill its parent process?); it is started again for the next iteration",
            pid=pid,
        )

    def _abandon(self, pid: int | None) -> None:
        """Kill the template and the child it was running; the next execution starts a new one."""
        if pid is not None:
            _kill_group(pid)
        process, self._process, self._channel = self._process, None, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    @staticmethod
    def _outcome(request: ExecutionRequest, exited: dict[str, Any], pid: int) -> RawOutcome:
        if "signal" in exited:
            hint = (
                " (the system may have run out of memory)"
                if exited["signal"] == signal.SIGKILL
                else ""
            )
            return RawOutcome(
                "error",
                reason=f"the iteration's process was killed by {exited['signal_name']}{hint}",
                pid=pid,
            )
        try:
            with request.result_path.open("rb") as handle:
                result: ChildResult = pickle.load(handle)
        except FileNotFoundError:
            code = exited.get("returncode")
            return RawOutcome(
                "error",
                reason=f"the iteration's process exited with code {code} before returning a result (os._exit?)",
                pid=pid,
            )
        except Exception as exc:
            return RawOutcome(
                "error",
                reason=f"the outputs of run() cannot be loaded here: {type(exc).__name__}: {exc}",
                pid=pid,
            )
        if result["status"] != "ok":
            return RawOutcome("error", result=result, reason=result.get("reason"), pid=pid)
        return RawOutcome("ok", result=result, pid=pid)

    def close(self) -> None:
        """Stop the template; a template that does not stop in 5 s is killed."""
        process, self._process, self._channel = self._process, None, None
        if process is None and self._launched is not None:
            process = self._launched[0]
        self._launched = None
        if process is None or process.poll() is not None:
            return
        assert process.stdin is not None
        try:
            process.stdin.write(b'{"op": "exit"}\n')
            process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


def _write_line(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def _kill_group(pid: int) -> None:
    """SIGKILL the process group of an execution's child (the child is its leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
