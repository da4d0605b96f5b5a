"""The fault-injection campaign: kills, races, poison, hostile input, an overwrite, a full disk.

Run from the repository root (minutes; ``--trials`` scales it)::

    python benchmarks/faults/campaign.py --trials 5 --hostile 1000

Every case states its promise and counts, over its trials: the records expected
(every record a session finished: in ``results.json`` or in a journal when it
died, or spilled by a full disk), found afterwards in ``results.json``, lost,
duplicated; invalid reads of ``results.json`` by a poller during the sessions
(through ``ResultsStore.read``, without the lock: a read that raises or is not
a prefix of the next); tracebacks (``Traceback`` or ``INTERNALERROR`` in any output); hangs (a session
past its limit); files changed by input that was refused; and processes left
behind (any process still carrying the campaign's marker in its environment).
It prints the table in Markdown and exits 1 when any promise broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from hostile_workspaces import WORKSPACES, snapshot, write_workspace  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from pytest_iterbench.errors import WorkspaceError  # noqa: E402
from pytest_iterbench.results.store import ResultsStore  # noqa: E402
from pytest_iterbench.workspace.loader import Workspace  # noqa: E402

MARKER = f"ITERBENCH_CAMPAIGN_{uuid.uuid4().hex[:8]}"
SESSION_LIMIT = 180.0
ITERATIONS = 6
METRICS = ("accuracy", "f1_macro")
MAIN = """
import random, time
def run(parameters):
    time.sleep(random.uniform(0.05, 0.4))
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0]}
"""
OVERWRITE_MAIN = """
import json
from pathlib import Path
def run(parameters):
    (Path(__file__).resolve().parents[2] / "results.json").write_text(json.dumps({"results": []}))
    return {"y_true": [0, 1], "y_pred": [0, 1]}
"""


@dataclass
class Row:
    """One case's counts over its trials."""

    case: str
    promise: str
    trials: int = 0
    expected: int = 0
    found: int = 0
    lost: int = 0
    duplicated: int = 0
    invalid_reads: int = 0
    reads: int = 0
    tracebacks: int = 0
    hangs: int = 0
    files_changed: int = 0
    left_behind: int = 0
    notes: list[str] = field(default_factory=list)

    def broken(self) -> bool:
        return any(
            (
                self.lost,
                self.duplicated,
                self.invalid_reads,
                self.tracebacks,
                self.hangs,
                self.files_changed,
                self.left_behind,
            )
        )


# -- workspaces and sessions ---------------------------------------------------------------


def make_workspace(root: Path, mains: dict[str, str] | None = None) -> Path:
    """A workspace of :data:`ITERATIONS` sleeping iterations × accuracy and f1_macro."""
    root.mkdir(parents=True, exist_ok=True)
    mains = mains or {}
    iterations = []
    for n in range(ITERATIONS):
        folder = root / "iterations" / f"v{n}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.py").write_text(mains.get(f"v{n}", MAIN))
        iterations.append(
            {"id": f"v{n}", "source_path": f"iterations/v{n}", "entry_point": "main.py"}
        )
    metrics = [
        {
            "id": m,
            "class": f"pytest_iterbench.metrics.{'AccuracyMetric' if m == 'accuracy' else 'F1MacroMetric'}",
            "higher_is_better": True,
            "unit": "",
        }
        for m in METRICS
    ]
    runs = [
        {
            "id": "run-001",
            "iteration_ids": [i["id"] for i in iterations],
            "metric_ids": list(METRICS),
        }
    ]
    for name, key, value in (
        ("iterations", "iterations", iterations),
        ("metrics", "metrics", metrics),
        ("runs", "runs", runs),
    ):
        (root / f"{name}.json").write_text(json.dumps({key: value}, indent=2))
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env[MARKER] = "1"
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def start_session(root: Path, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--iterbench",
        "run-001",
        "-q",
        "-p",
        "no:cacheprovider",
        *extra,
    ]
    return subprocess.Popen(
        command,
        cwd=root,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def recover(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iterbench", "recover", "--dir", str(root)],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=SESSION_LIMIT,
    )
    return done.stdout + done.stderr


def finish(process: subprocess.Popen[str], row: Row, limit: float = SESSION_LIMIT) -> str:
    """The session's output; a session past ``limit`` counts as a hang and is killed."""
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        row.hangs += 1
        kill_group(process.pid)
        output, _ = process.communicate()
    return output or ""


def kill_group(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def count_tracebacks(row: Row, *outputs: str) -> None:
    for output in outputs:
        if "Traceback" in output or "INTERNALERROR" in output:
            row.tracebacks += 1
            row.notes.append(output[-600:])


def left_behind() -> list[int]:
    """Processes other than this one whose environment holds the campaign's marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if MARKER.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def reap_left_behind(row: Row) -> None:
    deadline = time.monotonic() + 5
    while (pids := left_behind()) and time.monotonic() < deadline:
        time.sleep(0.2)
    row.left_behind += len(pids)
    for pid in pids:  # started by this campaign (they carry its marker)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- what the store holds ------------------------------------------------------------------


def result_ids(root: Path) -> list[str]:
    return [r.get("record_id") for r in ResultsStore(root).read()]


def journal_ids(root: Path) -> set[str]:
    """The record ids of the journals: the workspace's own and what they spilled when its disk was full."""
    ids = set()
    journals = [*(root / ".iterbench" / "journal").glob("*.jsonl")]
    for journal in [*journals, *ResultsStore(root).spilled_journals()]:
        for line in journal.read_bytes().split(b"\n")[:-1]:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("record_id"), str):
                ids.add(record["record_id"])
    return ids


def tally(row: Row, root: Path, expected: set[str]) -> None:
    found = result_ids(root)
    row.expected += len(expected)
    row.found += len(expected & set(found))
    row.lost += len(expected - set(found))
    row.duplicated += len(found) - len(set(found))


@contextmanager
def poller(root: Path, row: Row) -> Iterator[None]:
    """Read results.json in a loop, as a reader without the lock: each read must be a valid document.

    The reads go through :meth:`ResultsStore.read`, the documented read path
    (docs/reliability.md, "Reading results.json"); an invalid read is one that
    raises or returns records that are not a prefix of a later read's. Bare
    ``json.loads`` reads of the same file, which may see an append half done,
    are counted apart in the notes, not as broken promises.
    """
    stop = threading.Event()
    store = ResultsStore(root)

    def poll() -> None:
        previous: list[Any] = []
        torn = bare = 0
        while not stop.is_set():
            if not store.path.exists():
                continue
            row.reads += 1
            try:
                ids = [r.get("record_id") for r in store.read()]
            except Exception as exc:  # counting what escapes is the point
                row.invalid_reads += 1
                row.notes.append(f"invalid read: {type(exc).__name__}: {str(exc)[-300:]}")
                continue
            if ids[: len(previous)] != previous:
                row.invalid_reads += 1
                row.notes.append(
                    f"read {len(ids)} records, not after the {len(previous)} read before"
                )
            previous = ids
            bare, torn = bare + 1, torn + _bare_read_torn(store.path)
            time.sleep(0.002)
        if torn:
            row.notes.append(f"bare json.loads reads (not the read path): {torn} of {bare} torn")

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _bare_read_torn(path: Path) -> int:
    """1 when a bare ``json.loads`` of the file fails (an append seen half done), else 0."""
    try:
        json.loads(path.read_bytes())
    except FileNotFoundError:
        return 0
    except ValueError:
        return 1
    return 0


# -- the cases -----------------------------------------------------------------------------


def case_kill(row: Row, base: Path, trial: int) -> None:
    """kill -9 of the controller (or its whole process group), serial or -n 2, mid-session."""
    root = make_workspace(base / f"kill-{trial}")
    workers = ["-n", "2"] if trial % 2 else []
    with poller(root, row):
        for round_ in range(3):
            process = start_session(root, *workers)
            time.sleep(random.uniform(1.0, 6.0))
            if round_ == 2 or trial % 3 == 0:
                kill_group(process.pid)
            else:
                process.kill()
            process.communicate()
        reap_left_behind(row)
        expected = set(result_ids(root)) | journal_ids(root)
        count_tracebacks(row, recover(root))
        process = start_session(root, *workers)
        output = finish(process, row)
    expected |= {i for i in result_ids(root) if i not in expected}
    count_tracebacks(row, output)
    tally(row, root, expected)


def case_kill_worker(row: Row, base: Path, trial: int) -> None:
    """kill -9 of one xdist worker: the session ends, every other record is written."""
    root = make_workspace(base / f"worker-{trial}")
    process = start_session(root, "-n", "2")
    time.sleep(random.uniform(2.0, 5.0))
    workers = [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    if workers:
        os.kill(random.choice(workers), signal.SIGKILL)
    output = finish(process, row, limit=60)
    reap_left_behind(row)
    expected = set(result_ids(root)) | journal_ids(root)
    tally(row, root, expected)
    if "INTERNALERROR" in output:
        count_tracebacks(row, output)


def case_concurrent(row: Row, base: Path, trial: int) -> None:
    """Four sessions at once beside a recover loop: every record of every session, once."""
    root = make_workspace(base / f"concurrent-{trial}")
    stop = threading.Event()
    outputs: list[str] = []

    def recover_loop() -> None:
        while not stop.is_set():
            outputs.append(recover(root))

    loop = threading.Thread(target=recover_loop)
    with poller(root, row):
        loop.start()
        sessions = [start_session(root) for _ in range(4)]
        outputs += [finish(p, row) for p in sessions]
        stop.set()
        loop.join()
    count_tracebacks(row, *outputs)
    found = result_ids(root)
    expected = set(found) | journal_ids(root)
    if len(set(found)) != 4 * ITERATIONS * len(METRICS):
        row.notes.append(
            f"concurrent: {len(set(found))} records of {4 * ITERATIONS * len(METRICS)}"
        )
        row.lost += 4 * ITERATIONS * len(METRICS) - len(set(found))
    tally(row, root, expected)


def case_poisoned(row: Row, base: Path, trial: int) -> None:
    """Poisoned journal lines and a NaN in results.json: set aside with a warning, nothing blocked."""
    root = make_workspace(base / f"poison-{trial}")
    journal = root / ".iterbench" / "journal"
    journal.mkdir(parents=True)
    good = {
        "record_id": f"good-{trial}",
        "session_id": "20260101T000000Z-0000abcd",
        "run_id": "run-001",
        "iteration_id": "v0",
        "metric_id": "accuracy",
        "value": 0.5,
        "unit": "",
        "status": "passed",
        "executed_at": "2026-01-01T00:00:00.000Z",
        "environment": {},
    }
    poison = [
        json.dumps(good),
        '{"record_id": "x"}',
        json.dumps({**good, "record_id": 7}),
        json.dumps({**good, "record_id": "nan"}).replace("0.5", "NaN"),
        "[1, 2]",
    ]
    (journal / "20260101T000000Z-dead.jsonl").write_text("\n".join(poison) + "\n")
    (root / "results.json").write_text(
        '{"results": [\n    '
        + json.dumps({**good, "record_id": "old-nan"}).replace("0.5", "NaN")
        + "\n  ]\n}\n"
    )
    outputs = [finish(start_session(root), row), recover(root)]
    count_tracebacks(row, *outputs)
    tally(row, root, {f"good-{trial}"} | {i for i in result_ids(root) if i != "old-nan"})


def case_overwrite(row: Row, base: Path, trial: int) -> None:
    """An iteration that overwrites results.json: every earlier record is restored."""
    root = make_workspace(base / f"overwrite-{trial}")
    count_tracebacks(row, finish(start_session(root), row))
    earlier = set(result_ids(root))
    (root / "iterations" / "v0" / "main.py").write_text(OVERWRITE_MAIN)
    output = finish(start_session(root), row)
    count_tracebacks(row, output)
    tally(row, root, earlier | set(result_ids(root)))


def case_disk_full(row: Row, base: Path, trial: int) -> None:
    """A disk that fills mid-session: no traceback; once space is freed, recover brings every record."""
    mount = base / f"tmpfs-{trial}"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        row.notes.append(f"skipped: cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
        return
    try:
        root = make_workspace(mount / "ws")
        filler = mount / "filler"
        with filler.open("wb") as handle:  # leave about 40 KB free
            free = shutil.disk_usage(mount).free
            handle.write(b"\0" * max(0, free - 40_000))
        output = finish(start_session(root), row)
        count_tracebacks(row, output)
        kept = set(result_ids(root)) | journal_ids(root)
        filler.unlink()
        count_tracebacks(row, recover(root))
        tally(row, root, kept)
        missing = ITERATIONS * len(METRICS) - len(kept)  # finished, but in neither place
        row.expected += missing
        row.lost += missing
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def hostile_workspaces(row: Row, base: Path, examples: int) -> None:
    """Hypothesis-generated hostile workspaces: load succeeds or raises WorkspaceError; no file changes."""

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(documents=WORKSPACES)
    def check(documents: dict[str, Any]) -> None:
        root = Path(tempfile.mkdtemp(dir=base))
        try:
            write_workspace(root, documents)
            before = snapshot(root)
            row.trials += 1
            try:
                Workspace.load(root)
            except WorkspaceError as exc:
                for problem in exc.problems:
                    str(problem).encode("utf-8")
            except BaseException as exc:  # counting what escapes is the point
                row.tracebacks += 1
                row.notes.append("".join(traceback.format_exception_only(exc))[:300])
            if snapshot(root) != before:
                row.files_changed += 1
        finally:
            shutil.rmtree(root, ignore_errors=True)

    check()


CASES: dict[str, tuple[str, Callable[[Row, Path, int], None]]] = {
    "kill -9": (
        "records finished before a kill are found once after recovery; results.json always parses",
        case_kill,
    ),
    "dying worker": (
        "a killed xdist worker ends the session; no hang; other records kept",
        case_kill_worker,
    ),
    "concurrent": ("4 sessions and a recover loop at once: every record once", case_concurrent),
    "poisoned": (
        "poisoned journal and results lines are set aside; nothing blocked",
        case_poisoned,
    ),
    "overwrite": ("an iteration overwriting results.json loses no record", case_overwrite),
    "disk full": (
        "a full disk: no traceback; recover after freeing space loses nothing",
        case_disk_full,
    ),
}


def table(rows: list[Row]) -> str:
    head = "| case | promise | trials | expected | found | lost | duplicated | invalid reads (of) | tracebacks | hangs | files changed | processes left |"
    lines = [head, "| " + " | ".join(["---"] * 12) + " |"]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.promise} | {r.trials} | {r.expected} | {r.found} | {r.lost} | {r.duplicated}"
            f" | {r.invalid_reads} ({r.reads}) | {r.tracebacks} | {r.hangs} | {r.files_changed} | {r.left_behind} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--hostile", type=int, default=1000, help="hypothesis examples")
    parser.add_argument("--cases", nargs="*", default=[*CASES, "hostile"])
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="iterbench-faults-") as folder:
        base = Path(folder)
        for name in args.cases:
            started = time.monotonic()
            if name == "hostile":
                row = Row(
                    "hostile workspaces",
                    "load succeeds or names problems; never another exception; no file changes",
                )
                hostile_workspaces(row, base, args.hostile)
            else:
                promise, case = CASES[name]
                row = Row(name, promise)
                for trial in range(args.trials):
                    row.trials += 1
                    case(row, base, trial)
                reap_left_behind(row)
            rows.append(row)
            print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
            for note in row.notes[:3]:
                print(f"  {name}: {note}", file=sys.stderr)
    print(table(rows))
    return 1 if any(r.broken() for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
