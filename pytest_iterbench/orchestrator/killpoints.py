"""A test hook: ``kill -9`` of the orchestration at a chosen point, to prove it resumes.

``ITERBENCH_ORCHESTRATE_KILL_AT=<step>:<point>`` (``plan:before``,
``benchmark:run-001:records=2``, ``implement:v2:written``) makes the
orchestrator send SIGKILL to every process it started (the benchmark's
pytest, its process template, the iterations' children) and then to itself,
when it reaches that point: what a power cut or ``kill -9`` of the process
tree does. Unset (always, outside tests), it does nothing.

Points: ``before`` (the step is recorded as running), ``after`` (recorded as
done, not yet committed to git), ``written`` (implement: code written, not
checked yet), ``records=N`` (benchmark: N records in the session's journal).
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

KILL_VARIABLE = "ITERBENCH_ORCHESTRATE_KILL_AT"


def wanted(step_id: str, point: str) -> bool:
    """Whether the hook asks for a kill at this step's ``point``."""
    return os.environ.get(KILL_VARIABLE) == f"{step_id}:{point}"


def records_threshold(step_id: str) -> int | None:
    """N when the hook asks for a kill once the step's journal holds N records."""
    value = os.environ.get(KILL_VARIABLE, "")
    prefix = f"{step_id}:records="
    return int(value[len(prefix) :]) if value.startswith(prefix) else None


def kill_here(step_id: str, point: str) -> None:
    """SIGKILL the process tree when the hook names this point."""
    if wanted(step_id, point):
        kill_tree()


def kill_tree() -> None:
    """SIGKILL every descendant of this process (whatever its process group), then this one.

    The descendants are stopped first, listing again until no new one appears,
    so that none can fork a child the kill would miss.
    """
    stopped: list[int] = []
    while fresh := [pid for pid in _descendants(os.getpid()) if pid not in stopped]:
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped += fresh
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    frontier = [root]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found += children
        frontier += children
    return found
