"""Does a TimingMetric under ``-n 2`` read as it does serially, while a CPU hog runs on the other worker?

A workspace of two iterations and two metrics:

- ``timed``: ``run()`` calls the reference function once (``sum_of_squares(100_000)``,
  a few milliseconds); its ``timing`` record is the figure;
- ``hog``: ``run()`` burns a fixed amount of pure-Python CPU (about 4 s on a free
  core), touches a file when it starts, and returns when it started and finished;
- ``run_window``: a cheap metric class reading the shared execution's outputs
  (when ``run()`` ran): an ordinary item, holding the measurement lock shared;
- ``timing``: ``TimingMetric`` (``max_time`` 1 s), unchanged but for two things
  in a subclass, ``TimedBesideHog``: it skips the hog (the load is not timed),
  and under xdist it waits, asleep and before it takes the measurement lock,
  until the hog has started on the other worker (plus 0.2 s). So the timing is
  due while the hog burns, whatever the workers' start-up skew and however
  xdist distributes the items.

Three modes, rotated from repeat to repeat: serial; ``-n 2`` (exclusive timing,
the default: the timing waits for the hog's item to finish); ``-n 2
--iterbench-no-exclusive`` (the timing runs beside the hog). The records say
when the timing was due, when its rounds ran (``started_at``/``finished_at``)
and when the hog burned, so the script checks, rather than assumes, that the
two overlapped or not. The headline is the timed iteration's median under
``-n 2`` over its serial median, per repeat.

    .venv/bin/python benchmarks/bench_xdist_timing.py [--repeats 3] [--hog-seconds 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import figures
import user_install
from workspaces import (
    REFERENCE_LOOPS,
    REFERENCE_MAIN,
    TIMING_OPTIONS,
    BenchmarkFailed,
    Session,
    SessionRunner,
    WorkspaceBuilder,
    loops_for,
    overlap,
)

MODES = {
    "serial": [],
    "-n 2, exclusive": ["-n", "2"],
    "-n 2, no exclusive": ["-n", "2", "--iterbench-no-exclusive"],
}
XDIST_MODES = ("-n 2, exclusive", "-n 2, no exclusive")
TOLERANCE = 0.10  # the team's target: within 10 % of serial with exclusive timing
PASSED, SKIPPED = 3, 1  # both run_window items and the timed iteration's timing; the hog's
SIGNAL_FILE = "hog.burning"  # at the workspace root: the hog's run() has started

HOG_MAIN = """\
import time
from pathlib import Path

from reference import sum_of_squares


def run(parameters):
    started_at = time.time()
    (Path.cwd().parents[1] / parameters["signal_file"]).touch()  # cwd: iterations/hog
    sum_of_squares(parameters["loops"])
    return {"started_at": started_at, "finished_at": time.time()}
"""

BENCH_METRICS = """\
\"\"\"The run's metrics: when run() ran, and a TimingMetric of the timed iteration only.\"\"\"

import os
import time
from pathlib import Path

from pytest_iterbench import MetricResult, MetricSkipped
from pytest_iterbench.metrics.builtin import ExecutionMetric, TimingMetric

SETTLE_SECONDS = 0.2
WAIT_LIMIT_SECONDS = 30


class RunWindowMetric(ExecutionMetric):
    \"\"\"Seconds run() took in the shared execution, with when it started and finished.\"\"\"

    def from_execution(self, execution):
        out = execution.outputs
        window = {"started_at": out["started_at"], "finished_at": out["finished_at"]}
        return MetricResult(self.metric_id, out["finished_at"] - out["started_at"], self.unit, window)


class TimedBesideHog(TimingMetric):
    \"\"\"TimingMetric, unchanged, of every iteration but the hog (skipped: it is the load).

    Under xdist it first waits, asleep and before the timing takes the measurement
    lock, until the hog's run() has started on the other worker (a file it touches):
    the timing is then due while the hog burns.
    \"\"\"

    def __init__(self, hog, signal_file, **options):
        super().__init__(**options)
        self.hog, self.signal_file = hog, Path(signal_file)
        self.due_at = None

    def plan_for(self, iteration):  # called before the measurement lock is taken
        if iteration.id == self.hog:
            raise MetricSkipped(f"{self.hog} is the CPU load, not timed")
        started = time.time()
        if "PYTEST_XDIST_WORKER" in os.environ:
            while not self.signal_file.exists() and time.time() - started < WAIT_LIMIT_SECONDS:
                time.sleep(0.01)
            time.sleep(SETTLE_SECONDS)
        self.due_at = time.time()
        return super().plan_for(iteration)

    def from_timed(self, execution, context):
        return super().from_timed(execution, {**context, "timing_due_at": self.due_at})
"""


def build(folder: Path, hog_loops: int) -> Path:
    builder = (
        WorkspaceBuilder(folder)
        .iteration("timed", REFERENCE_MAIN, parameters={"loops": REFERENCE_LOOPS})
        .iteration("hog", HOG_MAIN, parameters={"loops": hog_loops, "signal_file": SIGNAL_FILE})
        .metric(
            "run_window", "bench_metrics.RunWindowMetric", unit="seconds", higher_is_better=False
        )
        .metric(
            "timing",
            "bench_metrics.TimedBesideHog",
            unit="seconds",
            higher_is_better=False,
            options={**TIMING_OPTIONS, "hog": "hog", "signal_file": SIGNAL_FILE},
        )
        .run()
    )
    builder.files["bench_metrics.py"] = BENCH_METRICS
    return builder.write()


@dataclass(frozen=True)
class Observation:
    """What one session says about the timed iteration's timing and the hog."""

    median: float
    iqr: float
    rounds: int
    timing_window: tuple[float, float]
    timing_due_at: float  # the timing item was ready to take the measurement lock
    timed_execution: tuple[float, float]
    hog_execution: tuple[float, float]
    exclusive_timing: bool
    xdist_workers: int
    session_wall: float
    busy_cpus: float | None  # machine-wide, during the timing window: 1 is the timing alone
    timing_worker: str | None  # the xdist worker each record names, where records say it
    hog_worker: str | None

    @classmethod
    def from_session(cls, session: Session, cpus: figures.CpuSampler) -> Observation:
        timing = session.record("timed", "timing")
        meta = timing["metadata"]

        hog = session.record("hog", "run_window")["metadata"]
        timed = session.record("timed", "run_window")["metadata"]
        return cls(
            median=timing["value"],
            iqr=meta["iqr"],
            rounds=meta["rounds"],
            timing_window=(meta["started_at"], meta["finished_at"]),
            timing_due_at=meta["timing_due_at"],
            timed_execution=(timed["started_at"], timed["finished_at"]),
            hog_execution=(hog["started_at"], hog["finished_at"]),
            exclusive_timing=timing["environment"]["exclusive_timing"],
            xdist_workers=timing["environment"]["xdist_workers"],
            session_wall=session.wall,
            busy_cpus=cpus.busy(meta["started_at"], meta["finished_at"]),
            timing_worker=timing["environment"].get("xdist_worker"),
            hog_worker=session.record("hog", "run_window")["environment"].get("xdist_worker"),
        )

    @property
    def overlap_seconds(self) -> float:
        """How long the timing ran while the hog burned."""
        return overlap(self.timing_window, self.hog_execution)

    @property
    def overlap_fraction(self) -> float:
        start, end = self.timing_window
        return self.overlap_seconds / (end - start)

    @property
    def due_during_hog(self) -> bool:
        """The timing item was next while the hog burned on the other worker."""
        return self.hog_execution[0] < self.timing_due_at < self.hog_execution[1]

    @property
    def waited_seconds(self) -> float:
        """From the moment the timing item was next to the start of its rounds."""
        return self.timing_window[0] - self.timing_due_at

    def to_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "overlap_seconds": self.overlap_seconds,
            "overlap_fraction": self.overlap_fraction,
            "due_during_hog": self.due_during_hog,
            "waited_seconds": self.waited_seconds,
        }


def check(mode: str, seen: Observation) -> None:
    """The session ran as the mode says; else its figure would mean nothing."""
    workers = 1 if mode == "serial" else 2
    exclusive = mode != "-n 2, no exclusive"
    if (seen.xdist_workers, seen.exclusive_timing) != (workers, exclusive):
        raise BenchmarkFailed(
            f"{mode}: expected xdist_workers={workers}, exclusive_timing={exclusive} in the record, "
            f"got {seen.xdist_workers}, {seen.exclusive_timing}"
        )
    if (
        mode in XDIST_MODES
        and seen.timing_worker is not None
        and seen.timing_worker == seen.hog_worker
    ):
        raise BenchmarkFailed(
            f"{mode}: the timing and the hog ran on one worker ({seen.timing_worker}), not side by side"
        )
    if mode in XDIST_MODES and not seen.due_during_hog:
        raise BenchmarkFailed(
            f"{mode}: the timed iteration's timing was due at {seen.timing_due_at}, not while the hog "
            f"burned {seen.hog_execution}: the two iterations were not on two busy workers at once"
        )


def measure(repeats: int, hog_seconds: float) -> tuple[dict[str, list[Observation]], int]:
    with tempfile.TemporaryDirectory(prefix="iterbench-bench-xdist-timing-") as scratch:
        root = Path(scratch)
        hog_loops = loops_for(hog_seconds, root / "calibration")
        workspace = build(root / "workspace", hog_loops)
        runner = SessionRunner(root)
        warm_up = runner.iterbench(workspace, MODES["serial"], PASSED, SKIPPED)
        runner.drop(warm_up)  # page cache and bytecode cache; not recorded
        seen: dict[str, list[Observation]] = {mode: [] for mode in MODES}
        names = list(MODES)
        with figures.CpuSampler() as cpus:
            for repeat in range(repeats):
                order = names[repeat % len(names) :] + names[: repeat % len(names)]
                for mode in order:
                    session = runner.iterbench(workspace, MODES[mode], PASSED, SKIPPED)
                    observation = Observation.from_session(session, cpus)
                    runner.drop(session)
                    check(mode, observation)
                    seen[mode].append(observation)
                print(
                    f"repeat {repeat + 1}/{repeats}: "
                    + ", ".join(f"{m} {figures.duration(seen[m][-1].median)}" for m in order),
                    file=sys.stderr,
                )
    return seen, hog_loops


def analyse(seen: dict[str, list[Observation]]) -> dict[str, Any]:
    serial = [o.median for o in seen["serial"]]
    return {
        "modes": {
            mode: {
                "median_seconds": figures.summary([o.median for o in observations]),
                "relative_iqr": figures.summary([o.iqr / o.median for o in observations]),
                "rounds": figures.summary([o.rounds for o in observations]),
                "overlap_fraction": figures.summary([o.overlap_fraction for o in observations]),
                "waited_seconds": figures.summary([o.waited_seconds for o in observations]),
                "session_wall_seconds": figures.summary([o.session_wall for o in observations]),
                "workers_timing_hog": sorted(
                    {f"{o.timing_worker} / {o.hog_worker}" for o in observations}
                ),
                "busy_cpus_during_timing": figures.summary(
                    [o.busy_cpus for o in observations if o.busy_cpus is not None] or [float("nan")]
                ),
            }
            for mode, observations in seen.items()
        },
        "ratio_over_serial_per_repeat": {
            mode: figures.summary([o.median / s for o, s in zip(seen[mode], serial, strict=True)])
            for mode in XDIST_MODES
        },
        "exclusivity_violations": [
            o.to_json() for o in seen["-n 2, exclusive"] if o.overlap_seconds > 0
        ],
        "raw": {mode: [o.to_json() for o in observations] for mode, observations in seen.items()},
    }


def _verdict(mode: str, stats: dict[str, float | int]) -> str:
    if mode != "-n 2, exclusive":
        return "(no target: the cost of turning exclusivity off)"
    if all(figures.within(stats[k], 1.0, TOLERANCE) for k in ("min", "max")):
        return "met (every repeat)"
    return (
        "met (median of repeats)" if figures.within(stats["median"], 1.0, TOLERANCE) else "NOT met"
    )


def _busy(stats: dict[str, float | int]) -> str:
    return f"{stats['median']:.2f} [{stats['min']:.2f} – {stats['max']:.2f}]"


def render(result: dict[str, Any], repeats: int, hog_seconds: float) -> str:
    modes = result["modes"]
    rows = [
        [
            mode,
            figures.spread(stats["median_seconds"]),
            f"{stats['relative_iqr']['median']:.1%}",
            f"{stats['rounds']['median']:.0f}",
            f"{stats['overlap_fraction']['median']:.0%} [{stats['overlap_fraction']['min']:.0%} – {stats['overlap_fraction']['max']:.0%}]",
            figures.spread(stats["waited_seconds"]),
            _busy(stats["busy_cpus_during_timing"]),
            figures.spread(stats["session_wall_seconds"]),
        ]
        for mode, stats in modes.items()
    ]
    ratio_rows = [
        [f"{mode} / serial", figures.ratio(stats), _verdict(mode, stats)]
        for mode, stats in result["ratio_over_serial_per_repeat"].items()
    ]
    violations = result["exclusivity_violations"]
    exclusivity = (
        "Exclusivity held: under `-n 2` with exclusive timing, no timing window overlapped the hog's execution."
        if not violations
        else f"EXCLUSIVITY VIOLATED in {len(violations)} session(s): timing windows overlapped the hog (see exclusivity_violations in the JSON)."
    )
    return "\n\n".join(
        [
            f"## Timing under xdist beside a CPU hog ({repeats} repeats; hog ≈ {hog_seconds:g} s of CPU)",
            figures.table(
                [
                    "mode",
                    "timed median [min – max over repeats]",
                    "IQR / median",
                    "rounds",
                    "timing window overlapping the hog",
                    "timing waited for the lock",
                    f"busy CPUs (of {os.cpu_count()}) during the timing",
                    "session wall",
                ],
                rows,
            ),
            figures.table(
                [
                    "ratio of medians (per repeat)",
                    "median [min – max]",
                    f"target: within {TOLERANCE:.0%} of serial",
                ],
                ratio_rows,
            ),
            exclusivity,
            "Checked in every `-n 2` session: the timed iteration's timing item was due while the hog "
            "burned on the other worker (workers named by the records, timing / hog: "
            f"{'; '.join(w for m in XDIST_MODES for w in modes[m]['workers_timing_hog'])}), "
            "and the records say xdist_workers and exclusive_timing as "
            f"the mode sets them. Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            user_install.describe(user_install.plugins_left_out()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="sessions of each mode")
    parser.add_argument(
        "--hog-seconds", type=float, default=4.0, help="the hog's CPU on a free core"
    )
    args = parser.parse_args(argv)
    try:
        seen, hog_loops = measure(args.repeats, args.hog_seconds)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    result = analyse(seen)
    print(render(result, args.repeats, args.hog_seconds))
    path = figures.write_results(
        "xdist_timing",
        {
            "repeats": args.repeats,
            "hog_seconds": args.hog_seconds,
            "hog_loops": hog_loops,
            "reference_loops": REFERENCE_LOOPS,
            "timing_options": TIMING_OPTIONS,
            "session_arguments": {
                mode: ["--iterbench", "bench", "--iterbench-dir", ".", *a]
                for mode, a in MODES.items()
            },
            "target_tolerance": TOLERANCE,
            **result,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
