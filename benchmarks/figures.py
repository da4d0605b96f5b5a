"""Figures of a benchmark: robust summaries, the environment, and where they are written.

Shared by the ``bench_*.py`` scripts (they run as plain scripts, so this folder
is ``sys.path[0]`` and ``import figures`` finds this module). The machines these
benchmarks run on are small and noisy, so every figure is a median with its
spread, and every headline number is a ratio against a baseline measured in
the same script.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_iterbench.results import records
from pytest_iterbench.results.records import package_version

RESULTS_DIR = Path(__file__).with_name("results")
REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "pytest-iterbench",
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "jsonschema",
    "filelock",
    "numpy",
    "scikit-learn",
    "torch",
)


def summary(samples: Sequence[float]) -> dict[str, float | int]:
    """Median, quartiles, extremes and count of ``samples``.

    >>> summary([3.0, 1.0, 2.0])["median"]
    2.0
    """
    ordered = sorted(samples)
    q1, _, q3 = (
        statistics.quantiles(ordered, n=4, method="inclusive")
        if len(ordered) > 1
        else (ordered[0],) * 3
    )
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "q1": q1,
        "q3": q3,
        "min": ordered[0],
        "max": ordered[-1],
    }


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``samples`` (linear interpolation, like numpy's default)."""
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def environment() -> dict[str, Any]:
    """Where the figures were taken: Python, CPU, load, package versions, commit."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    harness = records.environment()  # the same description results.json records carry
    return {
        "python": harness["python"],
        "implementation": harness["implementation"],
        "executable": sys.executable,
        "platform": harness["platform_detail"],
        "cpu_model": harness["cpu"],
        "cpu_count": harness["cpu_count"],
        "load_average_1_5_15": list(os.getloadavg()),
        "packages": {**harness["packages"], **{name: package_version(name) for name in PACKAGES}},
        "bytecode_env": {
            name: os.environ.get(name)
            for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_tracked_changes": bool(status) if status is not None else None,
    }


def this_command() -> str:
    """The command line that ran this script, as a shell would take it."""
    return shlex.join([sys.executable, *sys.argv])


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` (plus environment and command) to ``benchmarks/results/<name>.json``."""
    RESULTS_DIR.mkdir(exist_ok=True)
    ignore = RESULTS_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    path = RESULTS_DIR / f"{name}.json"
    document = {
        "benchmark": name,
        "command": this_command(),
        "cwd": str(Path.cwd()),
        "environment": environment(),
        **figures,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pipes and a separator row)."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def duration(seconds: float) -> str:
    """A duration in the unit that suits it: ``850 µs``, ``12.3 ms``, ``1.27 s``."""
    if abs(seconds) < 5e-10:
        return "0 µs"
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-6:.3g} µs"


def spread(stats: dict[str, float | int]) -> str:
    """``median [min–max]`` as durations."""
    return f"{duration(stats['median'])} [{duration(stats['min'])} – {duration(stats['max'])}]"


def ratio(stats: dict[str, float | int]) -> str:
    """``median× [min – max]`` of a ratio's summary."""
    return f"{stats['median']:.3f}× [{stats['min']:.3f} – {stats['max']:.3f}]"


def within(value: float, target: float, tolerance: float) -> bool:
    """Whether ``value`` is within ``tolerance`` (a fraction) of ``target``."""
    return abs(value - target) <= tolerance * abs(target)


class CpuSampler:
    """How many of the machine's CPUs were busy, over time: ``/proc/stat``, sampled in a thread.

    Says how loaded the machine was during a measured window, by whatever
    process: the benchmarks measure on shared machines, and a timing taken while
    other processes wanted every CPU is the machine's load as much as the code's.

    >>> with CpuSampler() as cpus:  # doctest: +SKIP
    ...     started = time.time(); work(); finished = time.time()
    >>> cpus.busy(started, finished)  # doctest: +SKIP
    1.03
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (epoch seconds, busy ticks, all ticks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _ticks() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as handle:
                fields = [int(x) for x in handle.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    def _run(self) -> None:
        while not self._stop.is_set():
            ticks = self._ticks()
            if ticks is not None:
                self.samples.append((time.time(), *ticks))
            self._stop.wait(self.interval)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def busy(self, start: float, end: float) -> float | None:
        """Busy CPUs, on average, from ``start`` to ``end`` (epoch seconds); None without samples."""
        samples = list(self.samples)
        before = [s for s in samples if s[0] <= start]
        after = [s for s in samples if s[0] >= end]
        if not after and (now := self._ticks()) is not None:  # the window has just ended
            after = [(time.time(), *now)]
        if not before or not after or after[0][2] == before[-1][2]:
            return None
        (_, busy0, all0), (_, busy1, all1) = before[-1], after[0]
        return (busy1 - busy0) / (all1 - all0) * (os.cpu_count() or 1)
