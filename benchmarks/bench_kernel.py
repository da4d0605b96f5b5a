"""The kernel planner: cold start, warm latency, memory, and the Sullivan score against baselines.

- cold start: a fresh interpreter that imports the kernel, loads the shipped
  model (conversion cache present; the first use ever adds the GGUF
  conversion, timed apart as ``first use``) and writes one plan;
- warm latency: wall and CPU seconds per plan, same process, over the
  held-out tasks (median and 90th percentile);
- memory: the process's peak RSS after planning;
- quality: the Sullivan score on the held-out tasks for the kernel, the
  rule-based baseline, the base model without the adapter (what training
  bought), and the Claude API when ``ANTHROPIC_API_KEY`` is set; with the
  ratios kernel / API (or kernel / baseline without a key).

The held-out tasks are the generator's own split (seed 0, as for the shipped
adapter): ``iterbench kernel dataset`` writes the same ones.

    .venv/bin/python benchmarks/bench_kernel.py [--tasks 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_iterbench.kernel.dataset import split, synthetic_examples
from pytest_iterbench.kernel.evaluate import PlannerScores, evaluate, render

COLD = (
    "import time; t = time.perf_counter();"
    "from pathlib import Path;"
    "from pytest_iterbench.kernel.planner import kernel_planner;"
    "from pytest_iterbench.llm.tasks import PlanTask;"
    "import tempfile; root = Path(tempfile.mkdtemp());"
    "kernel_planner(root).plan(PlanTask.from_description('Forecast daily sales of a store'), root);"
    "print(time.perf_counter() - t)"
)


def cold_start() -> float:
    output = subprocess.run(
        [sys.executable, "-c", COLD], capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument(
        "--no-base", action="store_true", help="skip the base model without adapter"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from pytest_iterbench.kernel.planner import BaselinePlanner, KernelPlanner, shared_decoder

    _, heldout = split(synthetic_examples(5000, seed=0))
    heldout = heldout[: args.tasks]
    cold = cold_start()
    start = time.perf_counter()
    decoder, name = shared_decoder()
    load = time.perf_counter() - start
    planners = {"kernel": KernelPlanner(decoder, name), "baseline": BaselinePlanner()}
    with tempfile.TemporaryDirectory() as root:
        results = evaluate(heldout, planners, Path(root))
        cpu = [g for g in _cpu_seconds(decoder, heldout[:10])]
        if not args.no_base:
            base, base_name = shared_decoder(None)
            results += _renamed(
                evaluate(heldout, {"kernel": KernelPlanner(base, base_name)}, Path(root)),
                "base model, no adapter",
            )
        if os.environ.get("ANTHROPIC_API_KEY"):
            from pytest_iterbench.kernel.commands import _api_planner

            results += evaluate(heldout[:10], {"claude-api": _api_planner(Path(root))}, Path(root))
    kernel = results[0]
    figures = {
        "model": name,
        "held_out_tasks": len(heldout),
        "cold_start_seconds": round(cold, 2),
        "load_seconds_in_process": round(load, 2),
        "warm_median_seconds": round(statistics.median(kernel.seconds), 3),
        "warm_p90_seconds": round(percentile(kernel.seconds, 0.9), 3),
        "warm_median_cpu_seconds": round(statistics.median(cpu), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "results": [r.to_json() for r in results],
    }
    print(render(results), end="")
    print(json.dumps({k: v for k, v in figures.items() if k != "results"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def _cpu_seconds(decoder, examples) -> list[float]:
    return [decoder.generate(e.prompt).cpu_seconds for e in examples]


def _renamed(results: list[PlannerScores], name: str) -> list[PlannerScores]:
    for result in results:
        result.name = name
    return results


if __name__ == "__main__":
    main()
