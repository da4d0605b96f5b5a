"""Start and stop the workspace's one studio session: a run or an orchestration.

The studio launches exactly what a user would type, in the workspace folder,
as a child in its own process group. **Stop** sends SIGINT to the group, as
Ctrl-C does in a terminal: the harness folds what was measured into
``results.json`` and writes the report, then exits (status 2). A second Stop
sends SIGTERM, a third SIGKILL (the journal keeps the records; ``iterbench
recover`` folds them).

One session per workspace: a lock in ``.iterbench/studio/`` is held while the
child runs, and ``session.json`` beside it says who holds it, so a second
studio on the same folder refuses to start and names the holder. A session
started from a terminal is seen in the event stream (the studio's live view)
and refused the same way (see :mod:`pytest_iterbench.studio.app`).

What is launched comes from :data:`LAUNCHERS`, by kind: ``run``
(``python -m pytest --iterbench RUN``) and ``orchestration``
(``python -m pytest_iterbench orchestrate --dir ROOT ...``, whose benchmark
pytest runs in the same process group, so one Stop reaches both). The child
inherits the studio's environment, as it would a user's shell (an API key
there reaches the planner, never the page). The session is held until every
process of its group has ended, not only the child.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Final

from filelock import FileLock, Timeout

from pytest_iterbench.errors import IterbenchError, Problem, WorkspaceError
from pytest_iterbench.execution.logs import read_tail
from pytest_iterbench.llm.planner import PLANNER_MODES
from pytest_iterbench.orchestrator.state import StateFile
from pytest_iterbench.results.records import utc_now
from pytest_iterbench.secrets import Scrubber
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.paths import RUNS_FILE, WorkspacePaths

MAX_WORKERS: Final = 64
OUTPUT_TAIL_LINES: Final = 40
#: Signals sent by successive Stops: a clean interrupt first, then firmer ones.
STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
#: Run first in the child: Stop's signals at their default action and unblocked, then the command.
#: A child inherits its parent's ignored signals and the launching thread's signal mask (a
#: library may block SIGINT in a thread): without this, Stop could not interrupt the session.
_STOPPABLE: Final = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_DFL)\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


@dataclass(frozen=True)
class Launch:
    """What to start: a ``kind`` (``run`` or ``orchestration``), its ``target`` and the xdist workers.

    A run's ``target`` is its id. An orchestration's is its task: the plan file
    (workspace-relative, default ``plan.json``) with the ``manual`` planner, the
    description with ``claude-api`` or ``kernel``; ignored with ``resume``.
    """

    kind: str
    target: str
    workers: int = 0
    planner: str = "manual"
    resume: bool = False


@dataclass(frozen=True)
class Holder:
    """Who holds the workspace's session: what runs, its process, since when, started by whom."""

    kind: str
    target: str
    workers: int
    pid: int
    since: str
    by: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Busy(IterbenchError):
    """A session already holds the workspace; ``holder`` says which."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder
        super().__init__(
            f"a session already runs in this workspace: {holder.get('kind', 'run')} "
            f"{holder.get('target')!r}, pid {holder.get('pid')}, since {holder.get('since')}, "
            f"held by {holder.get('by')}"
        )


def run_command(launch: Launch, paths: WorkspacePaths) -> list[str]:
    """The command of a ``run`` launch: the one a user types in the workspace folder."""
    workspace = Workspace.load(paths.root)
    workspace.run(launch.target)  # a WorkspaceError naming the known runs
    argv = [sys.executable, "-m", "pytest", "--iterbench", launch.target]
    argv += ["--iterbench-dir", str(paths.root)]
    if launch.workers > 0:
        argv += ["-n", str(launch.workers)]
    if paths.metric_tests_dir.is_dir():  # the workspace's metric tests, not the ini's testpaths
        argv.append(str(paths.metric_tests_dir))
    return argv


def _refuse(location: str, message: str) -> WorkspaceError:
    return WorkspaceError([Problem("request", location, message)])


def orchestration_command(launch: Launch, paths: WorkspacePaths) -> list[str]:
    """The command of an ``orchestration`` launch: ``iterbench orchestrate`` as a user types it."""
    argv = [sys.executable, "-m", "pytest_iterbench", "orchestrate", "--dir", str(paths.root)]
    if launch.workers > 0:  # the benchmark step's xdist workers
        argv += ["--workers", str(launch.workers)]
    if launch.resume:
        if StateFile(paths.root).load() is None:  # StateCorrupt names the file's problem
            raise WorkspaceError([Problem(paths.state.name, "orchestration", "none to resume")])
        return [*argv, "--resume"]
    if launch.planner not in PLANNER_MODES:
        raise _refuse(
            "planner", f"expected one of {', '.join(PLANNER_MODES)}, found {launch.planner!r}"
        )
    if launch.planner != "manual":
        if not launch.target.strip():
            raise _refuse("target", f"the {launch.planner} planner needs a description of the task")
        return [*argv, "--planner", launch.planner, "--", launch.target]
    plan = (paths.root / (launch.target or paths.plan.name)).resolve()
    if not plan.is_relative_to(paths.root) or not plan.is_file():
        raise _refuse(
            "target", f"expected a plan file inside the workspace, found {launch.target!r}"
        )
    return [*argv, "--planner", "manual", "--plan", str(plan)]


#: Command builders by launch kind.
LAUNCHERS: dict[str, Callable[[Launch, WorkspacePaths], list[str]]] = {
    "run": run_command,
    "orchestration": orchestration_command,
}


def check_launch(launch: Launch) -> None:
    """``WorkspaceError`` for an unknown kind or a worker count out of range."""
    if launch.kind not in LAUNCHERS:
        known = ", ".join(sorted(LAUNCHERS))
        raise WorkspaceError(
            [Problem("request", "kind", f"unknown kind {launch.kind!r}; known: {known}")]
        )
    if not 0 <= launch.workers <= MAX_WORKERS:
        message = f"expected 0 (no xdist) to {MAX_WORKERS} workers, found {launch.workers}"
        raise WorkspaceError([Problem(RUNS_FILE, "workers", message)])


class SessionRunner:
    """The studio's child session of one workspace; every method returns at once."""

    def __init__(self, root: Path, *, owner: str = "") -> None:
        self.paths = WorkspacePaths(Path(root).resolve())
        self.owner = owner or f"the studio of {getpass.getuser()}@{socket.gethostname()}"
        self.paths.studio_dir.mkdir(parents=True, exist_ok=True)
        # Not thread-local: a request's thread takes it, the live loop's thread releases it.
        self.lock = FileLock(str(self.paths.studio_dir / "session.lock"), thread_local=False)
        self.holder_file = self.paths.studio_dir / "session.json"
        self.output_file = self.paths.studio_dir / "session.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.holder: Holder | None = None
        self.last_exit: int | None = None
        self.stops = 0
        self._output: IO[bytes] | None = None
        #: Requests (threads) and the live loop both start, stop and notice the end.
        self._mutex = threading.RLock()

    def start(self, launch: Launch) -> Holder:
        """Launch ``launch``; ``Busy`` when a session holds the workspace, ``WorkspaceError`` for a bad request."""
        check_launch(launch)
        argv = LAUNCHERS[launch.kind](launch, self.paths)  # loads the workspace: outside the mutex
        with self._mutex:
            return self._start(launch, argv)

    def _start(self, launch: Launch, argv: list[str]) -> Holder:
        current = self.current()
        if current is not None:
            raise Busy(current.to_json())
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            raise Busy(self._foreign_holder()) from None
        try:
            self._spawn(argv, launch)
        except BaseException:
            self.lock.release()
            raise
        assert self.holder is not None
        return self.holder

    def _spawn(self, argv: list[str], launch: Launch) -> None:
        self._output = self.output_file.open("wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            stoppable(argv),
            cwd=self.paths.root,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: Stop signals the workers too
        )
        self.stops, self.last_exit = 0, None
        self.holder = Holder(
            launch.kind, launch.target, launch.workers, self.process.pid, utc_now(), self.owner
        )
        self.holder_file.write_text(json.dumps(self.holder.to_json()), encoding="utf-8")

    def stop(self) -> bool:
        """Interrupt the child's process group (SIGINT, then SIGTERM, then SIGKILL); False if none runs."""
        with self._mutex:
            return self._stop()

    def _stop(self) -> bool:
        if self.current_own() is None or self.process is None:
            return False
        sent = STOP_SIGNALS[min(self.stops, len(STOP_SIGNALS) - 1)]
        self.stops += 1
        try:
            os.killpg(self.process.pid, sent)
        except ProcessLookupError:
            return False
        return True

    def current_own(self) -> Holder | None:
        """This studio's running session, after noticing (and releasing) one that ended."""
        with self._mutex:
            process = self.process
            if process is not None and process.poll() is not None and not _group_alive(process.pid):
                self._release(process.returncode)
            return self.holder

    def current(self) -> Holder | None:
        """Whoever holds the workspace: this studio's child, or another studio's."""
        own = self.current_own()
        if own is not None:
            return own
        foreign = self._foreign_holder()
        return Holder(**foreign) if foreign.get("pid") and process_alive(foreign["pid"]) else None

    def _foreign_holder(self) -> dict[str, Any]:
        try:
            data = json.loads(self.holder_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and set(data) == set(Holder.__annotations__) else {}

    def _release(self, returncode: int) -> None:
        self.last_exit = returncode
        self.process = self.holder = None
        if self._output is not None:
            self._output.close()
            self._output = None
        self.holder_file.unlink(missing_ok=True)
        self.lock.release()

    def output_tail(self, scrubber: Scrubber) -> list[str]:
        """The last lines the child printed (pytest's own terminal output), secrets replaced."""
        if not self.output_file.is_file():
            return []
        return [scrubber.scrub(line) for line in read_tail(self.output_file, OUTPUT_TAIL_LINES)]

    def status(self, scrubber: Scrubber) -> dict[str, Any]:
        """The holder (or None), the last exit status and output tail, for ``GET /api/session``."""
        holder = self.current()
        return {
            "holder": holder.to_json() if holder else None,
            "own": self.holder is not None,
            "last_exit": self.last_exit,
            "output_tail": self.output_tail(scrubber),
        }

    def close(self, timeout: float = 30.0) -> None:
        """Stop the child (if any) and wait for its group: the studio never leaves a session behind."""
        if self.process is None:
            return
        pid = self.process.pid
        self.stop()
        deadline = time.monotonic() + timeout
        while self.current_own() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.current_own() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self.process.wait()
            while self.current_own() is not None and time.monotonic() < deadline + 5:
                time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """Whether a live process of the group ``pgid`` remains (an orchestration's pytest, a worker).

    Zombies do not count: an orphan is reaped by whoever is PID 1, which in a
    container may never do it.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts: ``_group_alive`` tells those apart)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stoppable(argv: list[str]) -> list[str]:
    """``argv`` (its first item an absolute path) run so that Stop's signals reach it, whatever this process blocks or ignores."""
    return [sys.executable, "-c", _STOPPABLE, *argv]
