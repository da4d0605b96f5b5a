"""Throw-away workspaces, CPU-bound workloads and checked pytest sessions for the benchmarks.

Shared by the timing and xdist benchmarks (``bench_timing_agreement.py``,
``bench_xdist_timing.py``, ``bench_xdist_speedup.py``). A workspace is written
once to a template folder and copied fresh for every session, so each session's
``results.json`` holds its own records only. Sessions are subprocesses
(``python -m pytest --iterbench RUN --iterbench-dir . -p no:cacheprovider -q``)
with the environment of ``bench_item_overhead.session_environment``: a private
bytecode cache and no ``PYTEST_*`` variables.

The workload is pure Python and deterministic (a loop summing squares): its cost
is a fixed amount of work, never a duration, so a busy core shows up as a longer
time instead of being hidden by a loop that runs "until 2 s have passed".
"""

from __future__ import annotations

import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bench_item_overhead import session_environment

REFERENCE_LOOPS = 100_000  # a few milliseconds per call on the machines these run on

REFERENCE_SOURCE = '''\
"""The reference workload: pure Python, CPU-bound, deterministic, single-threaded."""


def sum_of_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total
'''

# The reference call once per run(), and when it ran (epoch seconds, comparable
# with the records' started_at/finished_at); two time.time() calls cost ~0.1 µs.
REFERENCE_MAIN = """\
import time

from reference import sum_of_squares


def run(parameters):
    started_at = time.time()
    sum_of_squares(parameters["loops"])
    return {"started_at": started_at, "finished_at": time.time()}
"""

# An iteration that burns a fixed amount of CPU, says when it ran (epoch seconds,
# comparable with the records' started_at/finished_at) and prints it to its log.
BURNING_MAIN = """\
import json
import os
import time

from reference import sum_of_squares


def run(parameters):
    started_at = time.time()
    checksum = sum_of_squares(parameters["loops"])
    finished_at = time.time()
    window = {"started_at": started_at, "finished_at": finished_at, "pid": os.getpid()}
    print("WINDOW " + json.dumps(window), flush=True)
    labels = [i % 3 for i in range(30)]
    return {
        "y_true": labels,
        "y_pred": labels[:-3] + [0, 0, 0],
        "checksum": checksum,
        **window,
    }
"""

TIMING_CLASS = "pytest_iterbench.metrics.builtin.TimingMetric"
TIMING_OPTIONS = {"max_time": 1.0, "min_rounds": 5, "warmup_rounds": 1}


class BenchmarkFailed(RuntimeError):
    """A session did not do what the benchmark measures; its figures would mean nothing."""


def load_module(path: Path, name: str) -> ModuleType:
    """A fresh module object for ``path``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BenchmarkFailed(f"{path}: cannot build an import spec")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_reference(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reference.py"
    path.write_text(REFERENCE_SOURCE, encoding="utf-8")
    return path


def loops_for(seconds: float, folder: Path) -> int:
    """Loops of ``sum_of_squares`` that take about ``seconds`` on one free core.

    Calibrated on CPU time, the fastest of a few calls: waiting for a busy CPU
    does not count, so the amount of work is the same however loaded the machine.
    """
    module = load_module(write_reference(folder), "reference_calibration")
    probe = 500_000
    fastest = min(_cpu_seconds(module.sum_of_squares, probe) for _ in range(5))
    return max(1, round(seconds / fastest * probe))


def _cpu_seconds(func: Any, n: int) -> float:
    started = time.process_time()
    func(n)
    return time.process_time() - started


@dataclass
class WorkspaceBuilder:
    """iterations.json, metrics.json, runs.json, pytest.ini and sources under ``root``.

    The idea of ``tests/conftest.py``'s builder; ``reference.py`` sits at the root
    (on every iteration's ``sys.path``).
    """

    root: Path
    iterations: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def iteration(self, iteration_id: str, main: str, **fields: Any) -> WorkspaceBuilder:
        source = f"iterations/{iteration_id}"
        self.files[f"{source}/main.py"] = main
        self.iterations.append(
            {
                "id": iteration_id,
                "name": iteration_id,
                "source_path": source,
                "entry_point": "main.py",
                **fields,
            }
        )
        return self

    def metric(
        self,
        metric_id: str,
        cls: str,
        *,
        unit: str = "",
        higher_is_better: bool = True,
        **fields: Any,
    ) -> WorkspaceBuilder:
        self.metrics.append(
            {
                "id": metric_id,
                "name": metric_id,
                "class": cls,
                "unit": unit,
                "higher_is_better": higher_is_better,
                **fields,
            }
        )
        return self

    def run(self, run_id: str = "bench") -> WorkspaceBuilder:
        self.runs.append(
            {
                "id": run_id,
                "name": run_id,
                "iteration_ids": [it["id"] for it in self.iterations],
                "metric_ids": [m["id"] for m in self.metrics],
            }
        )
        return self

    def write(self) -> Path:
        self.root.mkdir(parents=True)
        (self.root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        write_reference(self.root)
        for relative, text in self.files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        for name, key, entries in (
            ("iterations.json", "iterations", self.iterations),
            ("metrics.json", "metrics", self.metrics),
            ("runs.json", "runs", self.runs),
        ):
            (self.root / name).write_text(json.dumps({key: entries}, indent=2), encoding="utf-8")
        return self.root


@dataclass(frozen=True)
class Session:
    """One finished, checked pytest session."""

    folder: Path
    wall: float
    cpu: float  # user + system seconds of the whole process tree
    started_at: float  # epoch seconds
    records: list[dict[str, Any]]

    def record(self, iteration_id: str, metric_id: str) -> dict[str, Any]:
        for record in self.records:
            if (record["iteration_id"], record["metric_id"]) == (iteration_id, metric_id):
                return record
        raise BenchmarkFailed(f"{self.folder}: no record for {iteration_id} × {metric_id}")

    def windows(self) -> dict[str, dict[str, float]]:
        """The ``WINDOW`` line each iteration's run() printed, from the session's logs."""
        found: dict[str, dict[str, float]] = {}
        for log in sorted((self.folder / ".iterbench" / "sessions").glob("*/*.log")):
            for line in log.read_text(encoding="utf-8").splitlines():
                if line.startswith("WINDOW "):
                    found[log.stem] = json.loads(line.removeprefix("WINDOW "))
        return found


class SessionRunner:
    """Runs ``pytest`` sessions in fresh copies of workspace templates, and checks them."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.env = session_environment(scratch / "pycache")
        self.count = 0

    def command(
        self, command: list[str], folder: Path
    ) -> tuple[subprocess.CompletedProcess[str], float, float]:
        """Run ``command`` in ``folder`` with the sessions' environment: (process, wall, CPU)."""
        cpu_before = _children_cpu()
        started = time.perf_counter()
        completed = subprocess.run(
            command, cwd=folder, env=self.env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        return completed, wall, _children_cpu() - cpu_before

    def pytest(
        self, folder: Path, arguments: list[str]
    ) -> tuple[subprocess.CompletedProcess[str], float, float]:
        """``python -m pytest -p no:cacheprovider -q ARGUMENTS`` in ``folder``: (process, wall, CPU)."""
        return self.command(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *arguments], folder
        )

    def iterbench(
        self,
        template: Path,
        arguments: list[str],
        expect_passed: int,
        expect_skipped: int = 0,
        run_id: str = "bench",
    ) -> Session:
        """A session of ``run_id`` in a fresh copy of ``template``, checked: its outcomes and records."""
        self.count += 1
        folder = self.scratch / "sessions" / f"{self.count:03d}-{template.name}"
        shutil.copytree(template, folder)
        started_at = time.time()
        completed, wall, cpu = self.pytest(
            folder, ["--iterbench", run_id, "--iterbench-dir", ".", *arguments]
        )
        require_passed(completed, expect_passed, expect_skipped)
        records = read_records(folder)
        statuses = sorted(r.get("status") for r in records)
        expected = sorted(["passed"] * expect_passed + ["skipped"] * expect_skipped)
        if statuses != expected:
            found = [(r["iteration_id"], r["metric_id"], r["status"], r["reason"]) for r in records]
            raise BenchmarkFailed(
                f"{folder / 'results.json'}: expected {expect_passed} passed and {expect_skipped} "
                f"skipped records, got {found}"
            )
        return Session(folder, wall, cpu, started_at, records)

    def drop(self, session: Session) -> None:
        shutil.rmtree(session.folder, ignore_errors=True)


def require_passed(
    completed: subprocess.CompletedProcess[str], passed: int, skipped: int = 0
) -> None:
    """Exit code 0 and ``N passed`` (an INTERNALERROR under xdist can exit 0: callers check records too)."""
    summary = f"{passed} passed" + (f", {skipped} skipped" if skipped else "")
    if completed.returncode != 0 or summary not in completed.stdout:
        raise BenchmarkFailed(
            f"{completed.args}: expected exit code 0 and '{summary}', got exit code "
            f"{completed.returncode}; output tail:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )


def read_records(folder: Path) -> list[dict[str, Any]]:
    path = folder / "results.json"
    try:
        records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError) as exc:
        raise BenchmarkFailed(f"{path}: expected a results document, got {exc!r}") from exc
    return records


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Seconds two [start, end] windows share (0 when disjoint)."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
