"""The cost of one isolated execution of a trivial iteration, against in-process calls.

The iteration's ``main.py`` imports ``sklearn.linear_model`` (as a real one
would) and returns ``{"value": 1}``. Four ways to run it:

- in-process call: ``run({})`` on a module imported once (the floor);
- in-process fresh load: a new ``importlib`` load of ``main.py`` plus ``run({})``
  every time, which is what isolation gives (a fresh module), minus the process;
- isolated: ``ProcessTemplate.execute`` — a fork of a warm template that
  pre-imported numpy and ``sklearn.linear_model`` (its start is reported apart);
- bare fork (context): ``os.fork()``, ``os._exit(0)`` in the child, ``waitpid``,
  in this benchmark's process, which holds the same modules: the floor of any
  fork-based isolation;
- fresh interpreter: ``python -c "import sklearn.linear_model; import main; main.run({})"``,
  what isolation costs without a template.

The measurements are interleaved in rounds (each round: in-process calls, then
isolated executions, then one fresh interpreter) so that the machine's drift
touches all of them alike; ratios are taken per round, then summarised.

    .venv/bin/python benchmarks/bench_isolation.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import figures
import sklearn.linear_model  # noqa: F401 - imported here as the template pre-imports it
from workspaces import load_module

from pytest_iterbench.execution.isolation import ExecutionRequest, ProcessTemplate

PRELOAD = ["numpy", "sklearn.linear_model"]
IN_PROCESS_PER_ROUND = 20
ISOLATED_PER_ROUND = 10
FRESH_CODE = "import sklearn.linear_model; import main; main.run({})"
TARGET_ISOLATED_SECONDS = 0.1  # "tens of milliseconds"

MAIN = """\
import sklearn.linear_model  # what a real iteration imports; the template pre-imports it


def run(parameters):
    return {"value": 1}
"""


def resident_mb() -> float:
    """This process's resident memory: what a bare fork has to map."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        resident = int(handle.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


class BenchmarkFailed(RuntimeError):
    """An execution did not return what the benchmark expects; its timing would mean nothing."""


def expect_value(outputs: Any, where: str) -> None:
    if outputs != {"value": 1}:
        raise BenchmarkFailed(f"{where}: expected outputs {{'value': 1}}, got {outputs!r}")


@dataclass
class Samples:
    """Seconds per execution, per kind, per round."""

    call: list[list[float]] = field(default_factory=list)
    fresh_load: list[list[float]] = field(default_factory=list)
    isolated: list[list[float]] = field(default_factory=list)
    isolated_child_wall: list[float] = field(default_factory=list)
    child_baseline_rss_mb: list[float] = field(default_factory=list)
    bare_fork: list[list[float]] = field(default_factory=list)
    interpreter: list[float] = field(default_factory=list)

    @staticmethod
    def flat(rounds: list[list[float]]) -> list[float]:
        return [value for samples in rounds for value in samples]


class Bench:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.iteration = scratch / "iteration"
        self.iteration.mkdir()
        self.main_path = self.iteration / "main.py"
        self.main_path.write_text(MAIN, encoding="utf-8")
        self.module = load_module(self.main_path, "main")
        self.loads = 0
        self.template = ProcessTemplate(preload=PRELOAD)
        self.samples = Samples()

    def request(self) -> ExecutionRequest:
        return ExecutionRequest(
            directory=self.iteration,
            entry_point="main.py",
            parameters={},
            result_path=self.scratch / "result.pickle",
            log_path=self.scratch / "iteration.log",
            timeout=None,
        )

    def start_template(self) -> tuple[float, float]:
        """(template start seconds, first execution's wall seconds including the start)."""
        started = time.perf_counter()
        self.execute_isolated()
        first = time.perf_counter() - started
        if self.template.preload_failed:
            raise BenchmarkFailed(f"the template failed to preload: {self.template.preload_failed}")
        assert self.template.start_seconds is not None
        return self.template.start_seconds, first

    def execute_isolated(self) -> tuple[float, float]:
        """(round-trip seconds seen by the parent, wall seconds the child measured)."""
        started = time.perf_counter()
        outcome = self.template.execute(self.request())
        elapsed = time.perf_counter() - started
        if outcome.status != "ok":
            raise BenchmarkFailed(f"isolated execution: {outcome.status}: {outcome.reason}")
        expect_value(outcome.result["outputs"], "isolated execution")
        self.samples.child_baseline_rss_mb.append(outcome.result["resources"]["baseline_rss_mb"])
        return elapsed, outcome.result["timings"]["wall_seconds"]

    def call(self) -> float:
        started = time.perf_counter()
        outputs = self.module.run({})
        elapsed = time.perf_counter() - started
        expect_value(outputs, "in-process call")
        return elapsed

    def fresh_load(self) -> float:
        self.loads += 1
        started = time.perf_counter()
        outputs = load_module(self.main_path, f"main_{self.loads}").run({})
        elapsed = time.perf_counter() - started
        expect_value(outputs, "in-process fresh load")
        return elapsed

    @staticmethod
    def bare_fork() -> float:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            raise BenchmarkFailed(f"bare fork: the child ended with wait status {status}")
        return elapsed

    def interpreter(self) -> float:
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-c", FRESH_CODE],
            cwd=self.iteration,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            raise BenchmarkFailed(
                f"fresh interpreter exited {completed.returncode}: {completed.stderr[-2000:]}"
            )
        return elapsed

    def round(self) -> None:
        self.samples.call.append([self.call() for _ in range(IN_PROCESS_PER_ROUND)])
        self.samples.fresh_load.append([self.fresh_load() for _ in range(IN_PROCESS_PER_ROUND)])
        isolated = [self.execute_isolated() for _ in range(ISOLATED_PER_ROUND)]
        self.samples.isolated.append([round_trip for round_trip, _ in isolated])
        self.samples.isolated_child_wall += [child for _, child in isolated]
        self.samples.bare_fork.append([self.bare_fork() for _ in range(ISOLATED_PER_ROUND)])
        self.samples.interpreter.append(self.interpreter())


def per_round_ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    return [n / d for n, d in zip(numerators, denominators, strict=True)]


def analyse(samples: Samples, start: float, first: float, rss_mb: float) -> dict[str, Any]:
    medians = {
        name: [figures.summary(r)["median"] for r in getattr(samples, name)]
        for name in ("call", "fresh_load", "isolated", "bare_fork")
    }
    isolated = Samples.flat(samples.isolated)
    return {
        "template_start_seconds": start,
        "first_execution_seconds_including_start": first,
        "resident_mb": {
            "benchmark_process": rss_mb,
            "template_child_at_fork": figures.summary(samples.child_baseline_rss_mb)["median"],
        },
        "seconds": {
            "in_process_call": figures.summary(Samples.flat(samples.call)),
            "in_process_fresh_load": figures.summary(Samples.flat(samples.fresh_load)),
            "isolated": {**figures.summary(isolated), "p90": figures.percentile(isolated, 0.9)},
            "isolated_child_wall": figures.summary(samples.isolated_child_wall),
            "bare_fork": figures.summary(Samples.flat(samples.bare_fork)),
            "fresh_interpreter": figures.summary(samples.interpreter),
        },
        "ratios_per_round": {
            "isolated_over_fresh_load": figures.summary(
                per_round_ratios(medians["isolated"], medians["fresh_load"])
            ),
            "isolated_over_call": figures.summary(
                per_round_ratios(medians["isolated"], medians["call"])
            ),
            "isolated_over_bare_fork": figures.summary(
                per_round_ratios(medians["isolated"], medians["bare_fork"])
            ),
            "fresh_interpreter_over_isolated": figures.summary(
                per_round_ratios(samples.interpreter, medians["isolated"])
            ),
        },
        "raw": {
            "in_process_call": samples.call,
            "in_process_fresh_load": samples.fresh_load,
            "isolated": samples.isolated,
            "isolated_child_wall": samples.isolated_child_wall,
            "bare_fork": samples.bare_fork,
            "fresh_interpreter": samples.interpreter,
        },
    }


def _ratio(stats: dict[str, float | int]) -> str:
    def number(value: float) -> str:
        return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"

    return f"{number(stats['median'])}× [{number(stats['min'])} – {number(stats['max'])}]"


def render(result: dict[str, Any], rounds: int) -> str:
    s, r = result["seconds"], result["ratios_per_round"]
    rows = [
        [
            "in-process call `run({})`",
            s["in_process_call"]["n"],
            figures.spread(s["in_process_call"]),
            "",
        ],
        [
            "in-process fresh `importlib` load + `run({})`",
            s["in_process_fresh_load"]["n"],
            figures.spread(s["in_process_fresh_load"]),
            "",
        ],
        [
            "isolated (template fork), parent round trip",
            s["isolated"]["n"],
            figures.spread(s["isolated"]),
            figures.duration(s["isolated"]["p90"]),
        ],
        [
            "… of which the child's own load + run",
            s["isolated_child_wall"]["n"],
            figures.spread(s["isolated_child_wall"]),
            "",
        ],
        [
            "bare fork + exit + wait (this process)",
            s["bare_fork"]["n"],
            figures.spread(s["bare_fork"]),
            "",
        ],
        [
            "fresh interpreter importing scikit-learn",
            s["fresh_interpreter"]["n"],
            figures.spread(s["fresh_interpreter"]),
            "",
        ],
    ]
    ratio_rows = [
        ["isolated / in-process fresh load", _ratio(r["isolated_over_fresh_load"])],
        ["isolated / in-process call", _ratio(r["isolated_over_call"])],
        ["isolated / bare fork", _ratio(r["isolated_over_bare_fork"])],
        ["fresh interpreter / isolated", _ratio(r["fresh_interpreter_over_isolated"])],
    ]
    median = s["isolated"]["median"]
    verdict = "met" if median < TARGET_ISOLATED_SECONDS else "NOT met"
    return "\n\n".join(
        [
            f"## Isolation cost ({rounds} rounds; median [min – max])",
            f"Template start (pre-importing {', '.join(PRELOAD)}): {figures.duration(result['template_start_seconds'])}; "
            f"first execution including that start: {figures.duration(result['first_execution_seconds_including_start'])}.",
            f"Resident memory: template child at fork {result['resident_mb']['template_child_at_fork']:.0f} MB, "
            f"this process (the bare fork's parent) {result['resident_mb']['benchmark_process']:.0f} MB.",
            figures.table(["execution", "n", "median [min – max]", "p90"], rows),
            figures.table(["ratio (per round, of medians)", "median [min – max]"], ratio_rows),
            f"Target (a trivial isolated iteration costs tens of milliseconds, < {figures.duration(TARGET_ISOLATED_SECONDS)}): "
            f"{verdict}, median {figures.duration(median)}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="iterbench-bench-isolation-") as scratch:
        bench = Bench(Path(scratch))
        try:
            start, first = bench.start_template()
            bench.interpreter()  # warm-up: page cache; not recorded
            for number in range(args.rounds):
                bench.round()
                print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
        except BenchmarkFailed as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            rss_mb = resident_mb()
            bench.template.close()
    result = analyse(bench.samples, start, first, rss_mb)
    print(render(result, args.rounds))
    path = figures.write_results(
        "isolation",
        {
            "rounds": args.rounds,
            "per_round": {
                "in_process_call": IN_PROCESS_PER_ROUND,
                "in_process_fresh_load": IN_PROCESS_PER_ROUND,
                "isolated": ISOLATED_PER_ROUND,
                "bare_fork": ISOLATED_PER_ROUND,
                "fresh_interpreter": 1,
            },
            "preload": PRELOAD,
            "iteration_main_py": MAIN,
            "fresh_interpreter_command": [sys.executable, "-c", FRESH_CODE],
            "target_isolated_seconds": TARGET_ISOLATED_SECONDS,
            **result,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
