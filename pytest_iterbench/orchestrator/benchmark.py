"""The benchmark step: the run through ``pytest --iterbench`` in a subprocess, as a user runs it.

The session's id is chosen and saved in ``state.json`` before pytest starts.
When the step was killed, the next attempt first folds the dead session's
journal into ``results.json`` (``ResultsStore.recover``), then resumes the
same session with ``--iterbench-session``: items already recorded are not
measured again. pytest's output goes to ``.iterbench/orchestrator/<step>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.orchestrator import killpoints
from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.state import sha256_bytes, sha256_json
from pytest_iterbench.orchestrator.steps import Outcome, StepContext
from pytest_iterbench.results.records import new_session_id
from pytest_iterbench.results.store import ResultsStore
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.paths import WorkspacePaths

#: pytest's exit codes that still mean "the run ran": 0 all passed, 1 some items failed.
RAN = (0, 1)
#: Seconds an interrupted pytest is given to end its session, at each stage of stopping it.
INTERRUPT_GRACE = 10.0
IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def code_hash(folder: Path, entry_point: str, written: Mapping[str, str]) -> str:
    """The hash of an iteration folder's files (names and bytes), caches left out.

    The entry point's hash goes through ``written`` (what the orchestrator
    wrote -> what to count instead), so a fix the review made counts as the
    code the benchmark measured; any other change (a hand edit) is a change.
    """
    parts = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
        relative = path.relative_to(folder)
        if path.is_file() and not IGNORED_PARTS & set(relative.parts):
            digest = sha256_bytes(path.read_bytes())
            if relative.as_posix() == entry_point:
                digest = written.get(digest, digest)
            parts.append([relative.as_posix(), digest])
    return sha256_json(parts)


def run_inputs(root: Path, run_id: str, written: Mapping[str, str] | None = None) -> str:
    """What a run's measurements depend on: its definitions, its iterations' code and its metrics' code.

    The metrics' code counts where a metric class lives in the workspace's
    ``metrics/`` package: every file of that folder is hashed, since a metric
    module may import its neighbours. A class from an installed package counts
    by its dotted name only.
    """
    workspace = Workspace.load(root)
    run = workspace.run(run_id)
    iterations = [workspace.iterations[i] for i in run.iteration_ids]
    metrics = [workspace.metrics[m] for m in run.metric_ids]
    inputs: dict[str, Any] = {
        "run": [run.id, list(run.iteration_ids), list(run.metric_ids)],
        "iterations": [
            [it.id, it.entry_point, it.parameters, code_hash(it.directory(root), it.entry_point, written or {})]
            for it in iterations
        ],
        "metrics": [[m.id, m.class_path, m.options, m.unit] for m in metrics],
    }  # fmt: skip
    local = WorkspacePaths(root).metric_tests_dir
    if any((m.class_path or "").startswith(f"{local.name}.") for m in metrics):
        inputs["metric_code"] = code_hash(local, "", {})
    return sha256_json(inputs)


@dataclass
class PytestRun:
    """One ``pytest --iterbench`` subprocess in the workspace."""

    root: Path
    run_id: str
    session_id: str
    only: tuple[str, ...] = ()
    log_name: str = "benchmark"
    workers: int = 0  # xdist workers (``-n``); 0: one process

    def command(self) -> list[str]:
        only = [arg for iteration in self.only for arg in ("--iterbench-only", iteration)]
        return [
            sys.executable, "-m", "pytest", "--iterbench", self.run_id,
            "--iterbench-dir", str(self.root), "--iterbench-session", self.session_id,
            "-p", "no:cacheprovider", "-q", *only,
            *(["-n", str(self.workers)] if self.workers > 0 else []),
        ]  # fmt: skip

    def run(self, kill_step: str | None = None) -> int:
        """The exit status; with the kill hook, SIGKILL everything once N records are journaled."""
        paths = WorkspacePaths(self.root)
        paths.orchestrator_dir.mkdir(parents=True, exist_ok=True)
        log = paths.orchestrator_dir / f"{self.log_name}.log"
        threshold = killpoints.records_threshold(kill_step) if kill_step else None
        with log.open("ab") as output:
            process = subprocess.Popen(
                self.command(), cwd=self.root, stdout=output, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )  # fmt: skip
            journal = paths.journal_dir / f"{self.session_id}.jsonl"
            try:
                while process.poll() is None:
                    if threshold is not None and _lines(journal) >= threshold:
                        killpoints.kill_tree()
                    time.sleep(0.02)
            except KeyboardInterrupt:
                _interrupt(process)
                raise
        return process.returncode


def _interrupt(process: subprocess.Popen[bytes]) -> None:
    """Let an interrupted pytest fold its journal and exit; interrupt it, then stop it, if it lingers.

    A Ctrl-C in the terminal, or the studio's Stop, reaches the whole process
    group, pytest included: it stops at once. A SIGINT sent to this process
    alone does not reach it, so it is passed on after a grace period; a second
    SIGINT at once could cut short pytest's own end of session.
    """
    for signum in (None, signal.SIGINT, signal.SIGTERM):  # None: it got the interrupt too
        if signum is not None:
            process.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=INTERRUPT_GRACE)
            return
    process.kill()
    process.wait()


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def session_records(root: Path, run_id: str, session_id: str) -> list[dict[str, Any]]:
    """The records a session wrote for a run, read through the index (not the whole history)."""
    return list(ResultsStore(root).run_records(run_id, [session_id]))


def failed_items(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records that did not pass: their iteration, metric, status and reason."""
    return [
        {key: r.get(key) for key in ("iteration_id", "metric_id", "status", "reason")}
        for r in records
        if r.get("status") not in ("passed", "skipped")
    ]


def benchmark_action(root: Path, run_id: str, step_id: str, workers: int = 0) -> Any:
    """The step's action: (resume) the session, then sum up what it recorded."""

    def action(context: StepContext) -> Outcome:
        session = context.record.outputs.get("session_id") or new_session_id()
        context.checkpoint(session_id=session)
        ResultsStore(root).recover()  # a killed attempt's journal, before resuming its session
        status = PytestRun(root, run_id, session, workers=workers).run(kill_step=step_id)
        records = session_records(root, run_id, session)
        if status not in RAN:
            log = WorkspacePaths(root).orchestrator_dir.relative_to(root) / "benchmark.log"
            raise StepFailed(
                step_id, f"pytest exited with status {status} (its output: {log.as_posix()})"
            )
        outputs = {"session_id": session, "records": len(records), "failed": failed_items(records)}
        return Outcome("done", ["results.json"], outputs)

    return action
