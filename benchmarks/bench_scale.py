"""What a large run costs: collection of N iterations x M metrics, and a scaled-down full session.

Each size gets a generated workspace (trivial iterations, M metric ids all of
the built-in accuracy class) under ``--cache``; every measurement runs in a
fresh wrapper process that reports its child's wall time and peak RSS.

    python benchmarks/bench_scale.py --collect 1000,10000 --run 50,200 --metrics 20
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import user_install
from bench_item_overhead import session_environment

REPO = Path(__file__).resolve().parents[1]
#: Wall time, CPU time (user + system, children included) and peak RSS of one child process:
#: on a shared machine the CPU time is the figure that does not depend on the load.
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "w = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(r.returncode, w, u.ru_utime + u.ru_stime, u.ru_maxrss)\n"
    "sys.stderr.write(r.stdout.decode()[-3000:] if r.returncode else '')\n"
)
MAIN = "def run(parameters):\n    return {'y_true': [0, 1, 1, 0], 'y_pred': [0, 1, 0, 0]}\n"


def write_workspace(folder: Path, iterations: int, metrics: int) -> Path:
    """A workspace of ``iterations`` x ``metrics`` items in run-001 (written once)."""
    if (folder / "runs.json").exists():
        return folder
    ids = [f"v{k}" for k in range(iterations)]
    for iteration_id in ids:
        (folder / "iterations" / iteration_id).mkdir(parents=True, exist_ok=True)
        (folder / "iterations" / iteration_id / "main.py").write_text(MAIN)
    metric_ids = [f"m{k}" for k in range(metrics)]
    documents = {
        "iterations.json": {
            "iterations": [
                {"id": i, "name": i, "source_path": f"iterations/{i}", "entry_point": "main.py"}
                for i in ids
            ]
        },
        "metrics.json": {
            "metrics": [
                {
                    "id": m,
                    "name": m,
                    "class": "pytest_iterbench.metrics.AccuracyMetric",
                    "unit": "%",
                    "higher_is_better": True,
                }
                for m in metric_ids
            ]
        },
        "runs.json": {
            "runs": [
                {"id": "run-001", "name": "run-001", "iteration_ids": ids, "metric_ids": metric_ids}
            ]
        },
    }
    (folder / "tox.ini").write_text("[pytest]\n")
    for name, document in documents.items():
        (folder / name).write_text(json.dumps(document))
    return folder


def measure(folder: Path, *args: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one pytest session in ``folder``."""
    command = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "pytest", *args]
    env = {**session_environment(folder / ".pycache"), "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    code, wall, cpu, rss = result.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(args)} in {folder}: exit {code}\n{result.stderr}")
    return float(wall), float(cpu), int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collect", default="1000,10000")
    parser.add_argument("--run", default="50,200")
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/iterbench-scale"))
    options = parser.parse_args()
    base = ["--iterbench", "run-001", "-p", "no:cacheprovider", "-q"]
    print("| what | iterations | items | wall s | CPU s | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in (int(x) for x in options.collect.split(",") if x):
        folder = write_workspace(options.cache / f"{n}x{options.metrics}", n, options.metrics)
        wall, cpu, rss = measure(folder, *base, "--collect-only")
        row = f"{n} | {n * options.metrics} | {wall:.1f} | {cpu:.1f} | {rss:.0f}"
        print(f"| collect | {row} |", flush=True)
    for n in (int(x) for x in options.run.split(",") if x):
        folder = write_workspace(options.cache / f"{n}x{options.metrics}", n, options.metrics)
        for path in (folder / "results.json", folder / ".iterbench"):
            subprocess.run(["rm", "-rf", str(path)], check=True)
        wall, cpu, rss = measure(folder, *base)
        row = f"{n} | {n * options.metrics} | {wall:.1f} | {cpu:.1f} | {rss:.0f}"
        print(f"| session | {row} |", flush=True)
    print(f"\n{user_install.describe(user_install.plugins_left_out())}")


if __name__ == "__main__":
    main()
