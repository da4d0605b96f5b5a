"""How much faster is a CPU-bound run under ``-n 2`` than serially, and what do xdist's workers cost?

Two workspaces:

- ``work``: 8 iterations whose ``run()`` burns a fixed amount of pure-Python CPU
  (about 2 s on a free core, ``--run-seconds``) and returns ``y_true``/``y_pred``;
  metrics ``accuracy`` and ``f1_macro`` (classes, no timing metric: nothing takes the
  measurement lock exclusively, so executions may run in parallel): 16 items;
- ``trivial``: 1 iteration that does nothing, the same two metrics: 2 items.
  Its ``-n 2`` session minus its serial session is the fixed cost of starting
  xdist's workers (two more interpreters, plugins, collection in each).

Each repeat runs the four sessions (``work`` and ``trivial``, serial and ``-n
2``) and the two ``bare`` runs below in an order rotated from repeat to repeat.
Per repeat:

- **speed-up** = serial wall / ``-n 2`` wall of ``work`` (target ≥ 1.7 on two cores);
- **fixed xdist cost** = ``-n 2`` wall − serial wall of ``trivial``;
- speed-up net of fixed costs = (serial − trivial serial) / (``-n 2`` − trivial ``-n 2``);
- **concurrency** of the executions = their summed ``run()`` seconds / the span
  from the first start to the last end (each ``run()`` prints its window to its
  log): 1 serially, 2 when two run at once all along.

The machine's own ceiling, measured in the same rotation: ``bare`` runs the
same 8 burns without pytest, one after another in one process, then two at a
time in a ``multiprocessing`` pool of 2. Its speed-up (bare serial / bare pool)
is what two CPUs of this machine gave at that moment, with nothing else
running: the share of it that ``-n 2`` reaches (speed-up / ceiling, per
repeat) is what pytest, xdist and the harness cost, apart from the machine.
Two vCPUs of a shared host often give less than 2.

Busy CPUs (machine-wide, ``/proc/stat``) during each session say how much of
the machine other processes took. Where the records name their xdist worker
(``environment.xdist_worker``), the script also counts the iterations whose
items were split over both workers: the harness keeps each execution's items
on one worker, so it should be none.

    .venv/bin/python benchmarks/bench_xdist_speedup.py [--repeats 3] [--run-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import figures
import user_install
from workspaces import (
    BURNING_MAIN,
    BenchmarkFailed,
    Session,
    SessionRunner,
    WorkspaceBuilder,
    loops_for,
    write_reference,
)

ITERATIONS = 8
TARGET_SPEEDUP = 1.7
SESSIONS = {  # name: (workspace, pytest arguments)
    "work, serial": ("work", []),
    "work, -n 2": ("work", ["-n", "2"]),
    "trivial, serial": ("trivial", []),
    "trivial, -n 2": ("trivial", ["-n", "2"]),
}
METRICS = (
    ("accuracy", "pytest_iterbench.metrics.builtin.AccuracyMetric", "%"),
    ("f1_macro", "pytest_iterbench.metrics.builtin.F1MacroMetric", ""),
)


BARE = {  # name: processes
    "bare, serial": 1,
    "bare, pool of 2": 2,
}
BARE_SCRIPT = """\
import json, sys, time
from multiprocessing import Pool

from reference import sum_of_squares


def burn(loops):
    started_at = time.time()
    sum_of_squares(loops)
    return {"started_at": started_at, "finished_at": time.time()}


if __name__ == "__main__":
    loops, runs, processes = (int(a) for a in sys.argv[1:4])
    if processes == 1:
        windows = [burn(loops) for _ in range(runs)]
    else:
        with Pool(processes) as pool:
            windows = pool.map(burn, [loops] * runs, chunksize=1)
    print(json.dumps(windows))
"""


def build(folder: Path, iterations: int, loops: int) -> Path:
    builder = WorkspaceBuilder(folder)
    for number in range(iterations):
        builder.iteration(f"it{number}", BURNING_MAIN, parameters={"loops": loops})
    for metric_id, cls, unit in METRICS:
        builder.metric(metric_id, cls, unit=unit)
    return builder.run().write()


@dataclass(frozen=True)
class Observation:
    """One session: wall and CPU seconds, its executions' windows, the machine's busy CPUs."""

    wall: float
    cpu: float
    windows: dict[str, dict[str, float]]
    busy_cpus: float | None
    workers: dict[str, list[str]]  # iteration: the xdist workers its records name

    @property
    def split_iterations(self) -> int:
        """Iterations whose items ran on more than one worker."""
        return sum(len(names) > 1 for names in self.workers.values())

    @property
    def concurrency(self) -> float:
        """Summed run() seconds over the span of all run() calls."""
        starts = [w["started_at"] for w in self.windows.values()]
        ends = [w["finished_at"] for w in self.windows.values()]
        busy = sum(w["finished_at"] - w["started_at"] for w in self.windows.values())
        return busy / (max(ends) - min(starts))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "concurrency": self.concurrency,
            "split_iterations": self.split_iterations,
        }


class Bench:
    def __init__(self, scratch: Path, run_seconds: float) -> None:
        self.loops = loops_for(run_seconds, scratch / "calibration")
        self.runner = SessionRunner(scratch)
        self.workspaces = {
            "work": (build(scratch / "work", ITERATIONS, self.loops), ITERATIONS),
            "trivial": (build(scratch / "trivial", 1, 1), 1),
        }
        self.bare_folder = scratch / "bare"
        write_reference(self.bare_folder)
        (self.bare_folder / "bare.py").write_text(BARE_SCRIPT, encoding="utf-8")

    def session(self, name: str, cpus: figures.CpuSampler) -> Observation:
        if name in BARE:
            return self.bare(name, cpus)
        workspace, arguments = SESSIONS[name]
        template, iterations = self.workspaces[workspace]
        session = self.runner.iterbench(template, arguments, iterations * len(METRICS))
        windows = session.windows()
        workers = _workers(session)
        self.runner.drop(session)
        expected = {f"it{n}" for n in range(iterations)}
        if set(windows) != expected:
            raise BenchmarkFailed(
                f"{name}: expected one execution log with a WINDOW line per iteration {sorted(expected)}, "
                f"got {sorted(windows)}"
            )
        return Observation(session.wall, session.cpu, windows, _busy(session, cpus), workers)

    def bare(self, name: str, cpus: figures.CpuSampler) -> Observation:
        """The same burns without pytest: one process, or a pool of two."""
        command = [sys.executable, "bare.py", str(self.loops), str(ITERATIONS), str(BARE[name])]
        started_at = time.time()
        completed, wall, cpu = self.runner.command(command, self.bare_folder)
        if completed.returncode != 0:
            raise BenchmarkFailed(
                f"{name}: exited {completed.returncode}: {completed.stderr[-2000:]}"
            )
        windows = json.loads(completed.stdout)
        return Observation(
            wall,
            cpu,
            {f"it{n}": window for n, window in enumerate(windows)},
            cpus.busy(started_at, started_at + wall),
            {},
        )


def _workers(session: Session) -> dict[str, list[str]]:
    """The xdist workers each iteration's records name (none serially, or before records said)."""
    workers: dict[str, set[str]] = {}
    for record in session.records:
        worker = record["environment"].get("xdist_worker")
        if worker is not None:
            workers.setdefault(record["iteration_id"], set()).add(worker)
    return {iteration: sorted(names) for iteration, names in workers.items()}


def _busy(session: Session, cpus: figures.CpuSampler) -> float | None:
    return cpus.busy(session.started_at, session.started_at + session.wall)


def measure(repeats: int, run_seconds: float) -> tuple[dict[str, list[Observation]], int]:
    with tempfile.TemporaryDirectory(prefix="iterbench-bench-xdist-speedup-") as scratch:
        bench = Bench(Path(scratch), run_seconds)
        with figures.CpuSampler() as cpus:
            for name in ("trivial, serial", "trivial, -n 2"):  # warm-up; not recorded
                bench.session(name, cpus)
            names = [*SESSIONS, *BARE]
            seen: dict[str, list[Observation]] = {name: [] for name in names}
            for repeat in range(repeats):
                order = names[repeat % len(names) :] + names[: repeat % len(names)]
                for name in order:
                    seen[name].append(bench.session(name, cpus))
                print(
                    f"repeat {repeat + 1}/{repeats}: "
                    + ", ".join(f"{n} {figures.duration(seen[n][-1].wall)}" for n in order),
                    file=sys.stderr,
                )
    return seen, bench.loops


def _per_repeat(seen: dict[str, list[Observation]], key: str) -> dict[str, list[float]]:
    return {name: [getattr(o, key) for o in observations] for name, observations in seen.items()}


def analyse(seen: dict[str, list[Observation]]) -> dict[str, Any]:
    wall = _per_repeat(seen, "wall")
    cpu = _per_repeat(seen, "cpu")
    rows = list(
        zip(
            wall["work, serial"],
            wall["work, -n 2"],
            wall["trivial, serial"],
            wall["trivial, -n 2"],
            strict=True,
        )
    )
    ceilings = [s / p for s, p in zip(wall["bare, serial"], wall["bare, pool of 2"], strict=True)]
    return {
        "sessions": {
            name: {
                "wall_seconds": figures.summary(wall[name]),
                "cpu_seconds": figures.summary(cpu[name]),
                "concurrency": figures.summary([o.concurrency for o in observations]),
                "busy_cpus": figures.summary(
                    [o.busy_cpus for o in observations if o.busy_cpus is not None] or [float("nan")]
                ),
                "split_iterations": figures.summary([o.split_iterations for o in observations]),
                "workers_named": any(o.workers for o in observations),
            }
            for name, observations in seen.items()
        },
        "speedup_per_repeat": figures.summary([s / p for s, p, _, _ in rows]),
        "machine_ceiling_per_repeat": figures.summary(ceilings),
        "share_of_ceiling_per_repeat": figures.summary(
            [(s / p) / c for (s, p, _, _), c in zip(rows, ceilings, strict=True)]
        ),
        "net_speedup_per_repeat": figures.summary([(s - ts) / (p - tp) for s, p, ts, tp in rows]),
        "fixed_xdist_seconds_per_repeat": figures.summary([tp - ts for _, _, ts, tp in rows]),
        "extra_cpu_seconds_per_repeat": figures.summary(
            [p - s for s, p in zip(cpu["work, serial"], cpu["work, -n 2"], strict=True)]
        ),
        "raw": {name: [o.to_json() for o in observations] for name, observations in seen.items()},
    }


def _number(stats: dict[str, float | int], digits: int = 2) -> str:
    return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f} – {stats['max']:.{digits}f}]"


def _percent(stats: dict[str, float | int]) -> str:
    return f"{stats['median']:.0%} [{stats['min']:.0%} – {stats['max']:.0%}]"


def _split(stats: dict[str, Any]) -> str:
    if not stats["workers_named"]:
        return "n/a"
    return f"{stats['split_iterations']['max']:.0f}"


def render(result: dict[str, Any], repeats: int, run_seconds: float) -> str:
    rows = [
        [
            name,
            figures.spread(stats["wall_seconds"]),
            figures.spread(stats["cpu_seconds"]),
            _number(stats["concurrency"]),
            _number(stats["busy_cpus"]),
            _split(stats),
        ]
        for name, stats in result["sessions"].items()
    ]
    speedup = result["speedup_per_repeat"]
    verdict = "met" if speedup["median"] >= TARGET_SPEEDUP else "NOT met"
    figure_rows = [
        ["**speed-up**, serial / `-n 2` (work)", f"{_number(speedup)}×", verdict],
        ["speed-up net of fixed costs", f"{_number(result['net_speedup_per_repeat'])}×", ""],
        [
            "the machine's own speed-up (bare serial / bare pool of 2)",
            f"{_number(result['machine_ceiling_per_repeat'])}×",
            "",
        ],
        [
            "**share of the machine's speed-up** that `-n 2` reached",
            _percent(result["share_of_ceiling_per_repeat"]),
            "",
        ],
        [
            "**fixed cost of xdist workers** (trivial, `-n 2` − serial)",
            figures.spread(result["fixed_xdist_seconds_per_repeat"]),
            "",
        ],
        [
            "extra CPU under `-n 2` (work)",
            figures.spread(result["extra_cpu_seconds_per_repeat"]),
            "",
        ],
    ]
    return "\n\n".join(
        [
            f"## xdist speed-up ({repeats} repeats; {ITERATIONS} iterations of ≈ {run_seconds:g} s of CPU each)",
            figures.table(
                [
                    "session",
                    "wall [min – max]",
                    "CPU of the process tree",
                    "concurrency of run()",
                    f"busy CPUs (of {os.cpu_count()})",
                    "iterations split over workers (max)",
                ],
                rows,
            ),
            figures.table(
                ["figure (per repeat)", "median [min – max]", f"target ≥ {TARGET_SPEEDUP}×"],
                figure_rows,
            ),
            "Concurrency: summed run() seconds over the span of all run() calls (2.00: two "
            "executions at once all along). Busy CPUs: machine-wide, over the session; above "
            "the session's own need, other processes took the rest. "
            f"Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            user_install.describe(user_install.plugins_left_out()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="sessions of each kind")
    parser.add_argument(
        "--run-seconds", type=float, default=2.0, help="each run()'s CPU on a free core"
    )
    args = parser.parse_args(argv)
    try:
        seen, loops = measure(args.repeats, args.run_seconds)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    result = analyse(seen)
    print(render(result, args.repeats, args.run_seconds))
    path = figures.write_results(
        "xdist_speedup",
        {
            "repeats": args.repeats,
            "iterations": ITERATIONS,
            "run_seconds": args.run_seconds,
            "loops_per_run": loops,
            "metrics": [metric_id for metric_id, _, _ in METRICS],
            "session_arguments": {
                name: ["--iterbench", "bench", "--iterbench-dir", ".", *arguments]
                for name, (_, arguments) in SESSIONS.items()
            },
            "target_speedup": TARGET_SPEEDUP,
            "plugins_left_out": user_install.plugins_left_out(),
            **result,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
