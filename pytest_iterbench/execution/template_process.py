"""The process template: runs in its own interpreter, and in the children it forks.

This file is started as a script (``python -P template_process.py``) and uses
the standard library only, so the template stays small and quick to start. It
pre-imports the heavy modules the iterations need (numpy, scikit-learn, torch,
...), then forks one child per execution request: every iteration starts from
the same clean, warm interpreter, never sees another iteration's modules, and
costs a ``fork()`` rather than an interpreter start plus imports.

Protocol (JSON lines): the parent writes an ``init`` message, then one
``execute`` message per iteration, on the template's stdin; the template answers
``ready``, then ``started`` and ``exited`` per execution, on the file descriptor
it received as stdout. The child writes its result as a pickle to
``result_path`` and everything the iteration prints to ``log_path``.

Nothing an iteration starts outlives its execution: the child leads its own
process group, and the template is a *child subreaper* (Linux's
``PR_SET_CHILD_SUBREAPER``), so a grandchild that leaves the group with
``setsid()`` and loses its parent becomes the template's child. When the
child has exited (or was killed for a timeout), the template kills the
group and every process left under it, and reaps them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from typing import Any, Literal, TypedDict


class ChildResult(TypedDict, total=False):
    """What a forked child writes back (pickled): the one shape of an execution's result.

    ``status`` is ``ok`` with ``outputs``, ``timings`` and ``resources`` (and
    ``timed_rounds`` for a timed run), or ``error`` with ``error_type``,
    ``reason`` and ``traceback``. The isolation layer and entry-point runners
    (``RawOutcome.result``) use this type; the executor reads it.
    """

    status: Literal["ok", "error"]
    outputs: dict[str, Any]
    timings: dict[str, float]
    resources: dict[str, Any]
    timed_rounds: dict[str, Any]
    error_type: str
    reason: str
    traceback: str


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PR_SET_CHILD_SUBREAPER = 36


def _statm() -> tuple[int, int]:
    """(virtual size, resident size) of this process in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        size, resident = handle.read().split()[:2]
    return int(size) * PAGE_SIZE, int(resident) * PAGE_SIZE


def _send(channel: Any, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _preload(modules: list[str]) -> tuple[list[str], dict[str, str]]:
    loaded: list[str] = []
    failed: dict[str, str] = {}
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:  # a preload is an optimisation: report, never fail
            failed[name] = f"{type(exc).__name__}: {exc}"
    return loaded, failed


def _redirect_output(log_path: str) -> None:
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 lives as long as the child
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _limit_memory(limit_mb: float | None) -> None:
    if not limit_mb:
        return
    virtual, _ = _statm()
    limit = virtual + int(limit_mb * 2**20)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _gpu_report() -> dict[str, Any] | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_initialized():
            return {"cuda_used": False}
        return {
            "cuda_used": True,
            "device": torch.cuda.get_device_name(),
            "peak_allocated_mb": torch.cuda.max_memory_allocated() / 2**20,
            "peak_reserved_mb": torch.cuda.max_memory_reserved() / 2**20,
        }
    except Exception as exc:  # reading GPU counters must not turn a success into an error
        return {"cuda_used": None, "error": f"{type(exc).__name__}: {exc}"}


def _load_entry_point(path: str) -> Any:
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _describe_exception(exc: BaseException, limit_mb: float | None) -> tuple[str, str]:
    if isinstance(exc, SystemExit):
        return "SystemExit", f"the iteration called sys.exit({exc.code!r})"
    if isinstance(exc, MemoryError):
        limit = f" (memory limit: {limit_mb:g} MB above the process baseline)" if limit_mb else ""
        return "MemoryError", f"MemoryError: out of memory{limit}: {exc}"
    return type(exc).__name__, f"{type(exc).__name__}: {exc}"


def _cap_threads(cap: int | None) -> None:
    """The BLAS/OpenMP caps came with the template's environment; torch reads its own."""
    torch = sys.modules.get("torch")
    if cap and torch is not None:
        torch.set_num_threads(cap)


def _load_sibling(name: str) -> Any:
    """A stdlib-only module of this package, loaded by path (the package imports pytest)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_iterbench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


def _time_child(run: Any, parameters: dict[str, Any], plan: dict[str, Any]) -> ChildResult:
    timing = _load_sibling("timing")
    rounds = timing.time_rounds(lambda: run(dict(parameters)), timing.TimingPlan.from_json(plan))
    return {
        "status": "ok",
        "outputs": {},
        "timed_rounds": rounds.to_json(),
        "timings": {},
        "resources": {},
    }


def _run_child(request: dict[str, Any]) -> ChildResult:
    directory = request["directory"]
    entry = os.path.join(directory, request["entry_point"])
    os.chdir(directory)
    sys.path[:0] = [directory, *request.get("extra_path", [])]
    sys.argv = [entry]
    _cap_threads(request.get("thread_cap"))
    _limit_memory(request.get("memory_limit_mb"))
    _, baseline_rss = _statm()
    cpu_start = os.times()
    start = time.perf_counter()
    try:
        module = _load_entry_point(entry)
        imported = time.perf_counter()
        run = getattr(module, "run", None)
        if not callable(run):
            raise TypeError(f"{request['entry_point']} defines no run(parameters) function")
        if request.get("timing") is not None:
            return _time_child(run, request.get("parameters") or {}, request["timing"])
        outputs = run(dict(request.get("parameters") or {}))
        finished = time.perf_counter()
        if not isinstance(outputs, dict):
            raise TypeError(f"run() returned {type(outputs).__name__}, expected a dict of outputs")
    except BaseException as exc:
        error_type, reason = _describe_exception(exc, request.get("memory_limit_mb"))
        return {
            "status": "error",
            "error_type": error_type,
            "reason": reason,
            "traceback": traceback.format_exc(),
        }
    cpu_end = os.times()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "status": "ok",
        "outputs": outputs,
        "timings": {
            "wall_seconds": finished - start,
            "import_seconds": imported - start,
            "run_seconds": finished - imported,
            "cpu_seconds": (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system),
        },
        "resources": {
            "baseline_rss_mb": baseline_rss / 2**20,
            "peak_rss_mb": peak_rss / 2**20,
            "peak_rss_above_baseline_mb": max(0, peak_rss - baseline_rss) / 2**20,
            "gpu": _gpu_report(),
        },
    }


def _write_result(path: str, result: ChildResult) -> None:
    partial = path + ".partial"
    try:
        with open(partial, "wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        failure = {
            "status": "error",
            "error_type": type(exc).__name__,
            "reason": f"the outputs of run() cannot be pickled: {type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
        with open(partial, "wb") as handle:
            pickle.dump(failure, handle)
    os.replace(partial, path)


def _child(request: dict[str, Any], channel_fd: int) -> None:
    """In the forked child: run one iteration, write its result, and never return."""
    code = 0
    try:
        os.setpgid(0, 0)  # its own group, so a timeout kills what it started too
        os.close(channel_fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _redirect_output(request["log_path"])
        result = _run_child(request)
        sys.stdout.flush()
        sys.stderr.flush()
        _write_result(request["result_path"], result)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _exit_description(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return {"signal": number, "signal_name": signal.Signals(number).name}
    return {"returncode": os.waitstatus_to_exitcode(status)}


def _become_subreaper() -> None:
    """Orphans of the iterations re-parent to this process instead of init (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # elsewhere only the child's process group is cleaned up


def _children() -> list[int]:
    """The pids whose parent is this process (read from /proc)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(entry))
    return found


def _sweep(group: int) -> None:
    """Kill the execution's process group and every process left under this one; reap them."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
    while True:
        for pid in _children():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # one at a time: a reaped process's orphans are killed next round
        except ChildProcessError:
            return


def main() -> None:
    if sys.path and sys.path[0] in ("", os.path.dirname(os.path.abspath(__file__))):
        sys.path.pop(0)  # never shadow user modules with this package's files
    channel_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints of preloaded modules must not corrupt the protocol
    channel = os.fdopen(channel_fd, "w", buffering=1)
    _become_subreaper()
    init = json.loads(sys.stdin.readline())
    sys.path[:] = init.get("sys_path", sys.path)
    loaded, failed = _preload(init.get("preload", []))
    _send(
        channel,
        {"event": "ready", "pid": os.getpid(), "preloaded": loaded, "preload_failed": failed},
    )
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "exit":
            break
        pid = os.fork()
        if pid == 0:
            _child(request, channel_fd)
        _send(channel, {"event": "started", "pid": pid})
        _, status = os.waitpid(pid, 0)
        _sweep(pid)
        _send(channel, {"event": "exited", "pid": pid, **_exit_description(status)})
    # Nothing here needs finalising (every child was swept), and tearing down the
    # preloaded modules (torch, scikit-learn) would cost the session's end up to seconds.
    channel.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
