"""Does the harness time a function as pyperf and pytest-benchmark do? Medians of one reference call.

The reference function is pure Python, CPU-bound and deterministic (a loop
summing the squares of ``range(100_000)``, a few milliseconds per call), timed
four ways:

- harness, in-process: ``pytest_iterbench.execution.timing.time_rounds`` and
  ``timing_stats.summarize`` in this process, with ``TimingPlan(warmup_rounds=1,
  min_rounds=5, max_time=1.0)`` (the ``TimingMetric`` options below);
- harness, ``TimingMetric``: a ``pytest --iterbench`` session on a one-iteration
  workspace whose ``run()`` calls the function once; the record's value (median)
  and metadata (IQR, stddev, rounds). This includes the harness's path: a fresh
  child forked from the process template, ``run(dict(parameters))`` per call;
- pyperf: ``Runner.bench_func`` in its own process tree with ``--fast`` (worker
  processes, each value the mean of a calibrated loop of at least 100 ms);
- pytest-benchmark: a test using the ``benchmark`` fixture, run by pytest with
  ``--benchmark-json`` and the same warm-up, ``min_rounds`` and ``max_time``.

Each repeat runs all four, in an order rotated from repeat to repeat; ratios of
medians are taken per repeat, then summarised.

    .venv/bin/python benchmarks/bench_timing_agreement.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import figures
import pyperf
import user_install
from workspaces import (
    REFERENCE_LOOPS,
    REFERENCE_MAIN,
    TIMING_CLASS,
    TIMING_OPTIONS,
    BenchmarkFailed,
    SessionRunner,
    WorkspaceBuilder,
    load_module,
    require_passed,
    write_reference,
)

from pytest_iterbench.execution.timing import TimingPlan, time_rounds
from pytest_iterbench.execution.timing_stats import summarize

TOOLS = ("harness in-process", "harness TimingMetric", "pyperf", "pytest-benchmark")
HARNESS = ("harness in-process", "harness TimingMetric")
REFERENCES = ("pyperf", "pytest-benchmark")
TOLERANCE = 0.05  # the team's target: medians within 5 % of each other
PLAN = TimingPlan.from_json(TIMING_OPTIONS)
PYTEST_BENCHMARK_OPTIONS = [
    f"--benchmark-max-time={PLAN.max_time}",
    f"--benchmark-min-rounds={PLAN.min_rounds}",
    "--benchmark-warmup=on",
    f"--benchmark-warmup-iterations={PLAN.warmup_rounds}",
]
PYPERF_OPTIONS = ["--fast", "--quiet"]

PYPERF_SCRIPT = f"""\
import pyperf

from reference import sum_of_squares

pyperf.Runner().bench_func("sum_of_squares", sum_of_squares, {REFERENCE_LOOPS})
"""

PYTEST_BENCHMARK_TEST = f"""\
from reference import sum_of_squares


def test_sum_of_squares(benchmark):
    benchmark(sum_of_squares, {REFERENCE_LOOPS})
"""

Figures = dict[str, Any]  # median, iqr, stddev, rounds, ... in seconds per call


def _spread_fields(stats: dict[str, Any], **extra: Any) -> Figures:
    keys = ("median", "iqr", "stddev", "mean", "min", "max", "rounds")
    return {key: stats[key] for key in keys} | extra


class Bench:
    """The four ways to time the reference function, each returning its statistics."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.runner = SessionRunner(scratch)
        self.workspace = (
            WorkspaceBuilder(scratch / "workspace")
            .iteration("reference", REFERENCE_MAIN, parameters={"loops": REFERENCE_LOOPS})
            .metric(
                "timing",
                TIMING_CLASS,
                unit="seconds",
                higher_is_better=False,
                options=TIMING_OPTIONS,
            )
            .run()
            .write()
        )
        self.function = load_module(
            write_reference(scratch / "in_process"), "reference"
        ).sum_of_squares
        self.pyperf_dir = scratch / "pyperf"
        write_reference(self.pyperf_dir)
        (self.pyperf_dir / "bench_reference.py").write_text(PYPERF_SCRIPT, encoding="utf-8")
        self.pytest_benchmark_dir = scratch / "pytest_benchmark"
        write_reference(self.pytest_benchmark_dir)
        (self.pytest_benchmark_dir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (self.pytest_benchmark_dir / "test_reference.py").write_text(
            PYTEST_BENCHMARK_TEST, encoding="utf-8"
        )
        self.count = 0
        self.tools: dict[str, Callable[[], Figures]] = {
            "harness in-process": self.in_process,
            "harness TimingMetric": self.timing_metric,
            "pyperf": self.pyperf,
            "pytest-benchmark": self.pytest_benchmark,
        }

    def in_process(self) -> Figures:
        cpu, wall = time.process_time(), time.perf_counter()
        rounds = time_rounds(lambda: self.function(REFERENCE_LOOPS), PLAN)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return _spread_fields(
            summarize(rounds.durations), data=rounds.durations, cpu_share=cpu / wall
        )

    def timing_metric(self) -> Figures:
        session = self.runner.iterbench(self.workspace, [], expect_passed=1)
        record = session.record("reference", "timing")
        self.runner.drop(session)
        metadata = record["metadata"]
        if record["value"] != metadata["median"]:
            raise BenchmarkFailed(
                f"TimingMetric: value {record['value']} is not the median {metadata['median']}"
            )
        return _spread_fields(
            metadata,
            data=metadata["data"],
            session_wall=session.wall,
            cpu_share=session.cpu / session.wall,
        )

    def pyperf(self) -> Figures:
        self.count += 1
        output = self.pyperf_dir / f"pyperf-{self.count}.json"
        completed, wall, cpu = self.runner.command(
            [sys.executable, "bench_reference.py", *PYPERF_OPTIONS, "-o", str(output)],
            self.pyperf_dir,
        )
        if completed.returncode != 0 or not output.exists():
            raise BenchmarkFailed(
                f"pyperf exited {completed.returncode}: {completed.stdout[-2000:]}{completed.stderr[-2000:]}"
            )
        benchmark = pyperf.Benchmark.load(str(output))
        values = list(benchmark.get_values())
        stats = summarize(values)
        if abs(stats["median"] - benchmark.median()) > 1e-12:
            raise BenchmarkFailed(f"pyperf: median {benchmark.median()} != {stats['median']}")
        return _spread_fields(
            stats,
            stddev=benchmark.stdev(),
            data=values,
            loops=benchmark.get_total_loops(),
            tool_wall=wall,
            cpu_share=cpu / wall,
        )

    def pytest_benchmark(self) -> Figures:
        self.count += 1
        output = self.pytest_benchmark_dir / f"pytest-benchmark-{self.count}.json"
        completed, wall, cpu = self.runner.pytest(
            self.pytest_benchmark_dir,
            ["test_reference.py", f"--benchmark-json={output}", *PYTEST_BENCHMARK_OPTIONS],
        )
        require_passed(completed, 1)
        stats = json.loads(output.read_text(encoding="utf-8"))["benchmarks"][0]["stats"]
        return _spread_fields(
            stats, iterations=stats["iterations"], tool_wall=wall, cpu_share=cpu / wall
        )


def measure(repeats: int) -> list[dict[str, Figures]]:
    with tempfile.TemporaryDirectory(prefix="iterbench-bench-agreement-") as scratch:
        bench = Bench(Path(scratch))
        for tool in TOOLS:  # warm-up: page cache, bytecode cache; not recorded
            bench.tools[tool]()
        results: list[dict[str, Figures]] = []
        for repeat in range(repeats):
            order = TOOLS[repeat % len(TOOLS) :] + TOOLS[: repeat % len(TOOLS)]
            results.append({tool: bench.tools[tool]() for tool in order})
            print(
                f"repeat {repeat + 1}/{repeats}: "
                + ", ".join(f"{t} {figures.duration(results[-1][t]['median'])}" for t in order),
                file=sys.stderr,
            )
    return results


def _ratios(results: list[dict[str, Figures]], key: str) -> dict[str, dict[str, float | int]]:
    """Per-repeat ratios of statistic ``key`` between the tools, summarised over repeats."""
    pairs = [(h, ref) for h in HARNESS for ref in REFERENCES]
    pairs += [("pytest-benchmark", "pyperf"), ("harness TimingMetric", "harness in-process")]
    return {
        f"{a} / {b}": figures.summary([r[a][key] / r[b][key] for r in results]) for a, b in pairs
    }


def analyse(results: list[dict[str, Figures]]) -> dict[str, Any]:
    per_tool = {
        tool: {
            "median_seconds": figures.summary([r[tool]["median"] for r in results]),
            "min_seconds": figures.summary([r[tool]["min"] for r in results]),
            "mean_seconds": figures.summary([r[tool]["mean"] for r in results]),
            "iqr_seconds": figures.summary([r[tool]["iqr"] for r in results]),
            "stddev_seconds": figures.summary([r[tool]["stddev"] for r in results]),
            "relative_iqr": figures.summary([r[tool]["iqr"] / r[tool]["median"] for r in results]),
            "rounds": figures.summary([r[tool]["rounds"] for r in results]),
            "cpu_share": figures.summary([r[tool]["cpu_share"] for r in results]),
        }
        for tool in TOOLS
    }
    return {
        "per_tool": per_tool,
        "ratios_of_medians_per_repeat": _ratios(results, "median"),
        "ratios_of_minimums_per_repeat": _ratios(results, "min"),
        "raw": results,
    }


def verdict(stats: dict[str, float | int]) -> str:
    median_ok = figures.within(stats["median"], 1.0, TOLERANCE)
    every_ok = all(figures.within(stats[k], 1.0, TOLERANCE) for k in ("min", "max"))
    if median_ok and every_ok:
        return "met (every repeat)"
    return "met (median of repeats)" if median_ok else "NOT met"


def _targeted(name: str) -> bool:
    return name.split(" / ")[0] in HARNESS and name.split(" / ")[1] in REFERENCES


def render(result: dict[str, Any], repeats: int) -> str:
    tool_rows = [
        [
            tool,
            figures.spread(stats["median_seconds"]),
            figures.duration(stats["iqr_seconds"]["median"]),
            f"{stats['relative_iqr']['median']:.1%}",
            figures.duration(stats["stddev_seconds"]["median"]),
            f"{stats['rounds']['median']:.0f}",
            figures.duration(stats["mean_seconds"]["median"]),
            figures.spread(stats["min_seconds"]),
            f"{stats['cpu_share']['median']:.2f}",
        ]
        for tool, stats in result["per_tool"].items()
    ]
    medians, minimums = (
        result["ratios_of_medians_per_repeat"],
        result["ratios_of_minimums_per_repeat"],
    )
    ratio_rows = [
        [
            name,
            figures.ratio(stats),
            verdict(stats) if _targeted(name) else "",
            figures.ratio(minimums[name]),
        ]
        for name, stats in medians.items()
    ]
    return "\n\n".join(
        [
            f"## Timing agreement ({repeats} repeats; `sum_of_squares({REFERENCE_LOOPS:_})`)",
            "Per tool, median over repeats of each measurement's statistic (seconds per call):",
            figures.table(
                [
                    "tool",
                    "median [min – max over repeats]",
                    "IQR",
                    "IQR / median",
                    "stddev",
                    "rounds or values",
                    "mean",
                    "minimum [min – max over repeats]",
                    "CPU share",
                ],
                tool_rows,
            ),
            figures.table(
                [
                    "ratio (per repeat)",
                    "of medians: median [min – max]",
                    f"target: medians within {TOLERANCE:.0%}",
                    "of minimums: median [min – max]",
                ],
                ratio_rows,
            ),
            "CPU share: CPU seconds / wall seconds of the measuring process tree; below "
            "about 0.9 the measurement waited for a CPU (another process ran), and its "
            "median is the machine's load as much as the function's cost. Load average "
            f"at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            user_install.describe(user_install.plugins_left_out()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of all four")
    args = parser.parse_args(argv)
    try:
        results = measure(args.repeats)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    result = analyse(results)
    print(render(result, args.repeats))
    path = figures.write_results(
        "timing_agreement",
        {
            "repeats": args.repeats,
            "reference_source": REFERENCE_MAIN,
            "reference_loops": REFERENCE_LOOPS,
            "timing_plan": PLAN.to_json(),
            "pytest_benchmark_options": PYTEST_BENCHMARK_OPTIONS,
            "pyperf_options": PYPERF_OPTIONS,
            "target_tolerance": TOLERANCE,
            **result,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
