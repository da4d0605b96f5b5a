"""Validating 20 small notebooks: the notebook processor against plain ``pytest --nbmake``.

Both commands run the same 20 notebooks (16 that pass; 4 that fail: two
asserts, an exception, an ``input()`` call), each as a subprocess, in turns:

- baseline: ``python -m pytest --nbmake -p no:cacheprovider -q --junitxml=... <20 files>``
- processor: ``python -m pytest_iterbench.notebook validate <20 files> --jobs 2``
  (nbmake items too, on a warm kernel pool: kernels started ahead, killed
  after use, two notebooks at a time)

Each repeat runs both, alternating which goes first; one warm-up pair is not
recorded. The headline is the ratio of wall times, baseline / processor, per
repeat; the verdicts of the two (which notebooks pass) must be the same, or
the script fails. CPU time of each command's process tree is given too.

    .venv/bin/python benchmarks/bench_notebooks.py [--repeats 5] [--notebooks 20]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import figures
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TARGET_RATIO = 2.0
FAILURES = {
    3: "assert total == 0, 'wrong total'",
    8: "raise ValueError('broken exercise')",
    13: "name = input('your name? ')",
    18: "assert squares(4) == [0, 1, 4, 9, 99]",
}


class BenchmarkFailed(RuntimeError):
    """The two commands disagreed, or one did not run: its timings would mean nothing."""


def write_notebooks(folder: Path, count: int) -> list[Path]:
    paths = []
    for number in range(count):
        cells = [
            new_markdown_cell(f"# Notebook {number}\n## Exercise 1\nWrite `squares(n)`."),
            new_code_cell("import math\nvalues = list(range(10))"),
            new_code_cell("def squares(n):\n    return [i * i for i in range(n)]"),
            new_code_cell("total = sum(squares(5))\nassert total == 30\nprint(total)"),
            new_code_cell(
                FAILURES.get(number, "assert math.isclose(sum(values) / len(values), 4.5)")
            ),
        ]
        nb = new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
        )
        path = folder / f"nb{number:02d}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return paths


def timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall and CPU seconds (the whole process tree) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, completed


def nbmake_verdicts(junit: Path) -> dict[str, bool]:
    verdicts = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        name = Path(case.get("name", "")).name
        verdicts[name] = case.find("failure") is None and case.find("error") is None
    return verdicts


def processor_verdicts(stdout: str, names: set[str]) -> dict[str, bool]:
    """The ``<notebook>: <verdict>`` lines the validate command prints after pytest's output."""
    verdicts = {}
    for line in stdout.splitlines():
        name, _, message = line.partition(": ")
        if name in names:
            verdicts[name] = message == "passed" or message.startswith("ran, unchecked")
    return verdicts


def run_pair(
    paths: list[Path], folder: Path, processor_first: bool
) -> dict[str, tuple[float, float, dict[str, bool]]]:
    junit = folder / "nbmake.xml"
    names = [str(p) for p in paths]
    commands = {
        "nbmake": [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={junit}",
            *names,
        ],
        "processor": [
            sys.executable,
            "-m",
            "pytest_iterbench.notebook",
            "validate",
            *names,
            "--jobs",
            "2",
        ],
    }
    order = ["processor", "nbmake"] if processor_first else ["nbmake", "processor"]
    measured = {}
    for name in order:
        wall, cpu, completed = timed(commands[name], folder)
        if completed.returncode not in (0, 1):
            raise BenchmarkFailed(
                f"{name} exited {completed.returncode}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
            )
        verdicts = (
            nbmake_verdicts(junit)
            if name == "nbmake"
            else processor_verdicts(completed.stdout, {p.name for p in paths})
        )
        if len(verdicts) != len(paths):
            raise BenchmarkFailed(
                f"{name} gave {len(verdicts)} verdicts for {len(paths)} notebooks:\n{completed.stdout[-3000:]}"
            )
        measured[name] = (wall, cpu, verdicts)
        print(f"  {name:<9} {wall:6.2f} s wall, {cpu:6.2f} s CPU", file=sys.stderr)
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--notebooks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as scratch:
        folder = Path(scratch)
        paths = write_notebooks(folder, args.notebooks)
        print("warm-up", file=sys.stderr)
        run_pair(paths, folder, processor_first=False)
        samples: dict[str, dict[str, list[float]]] = {
            n: {"wall": [], "cpu": []} for n in ("nbmake", "processor")
        }
        ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
        for repeat in range(args.repeats):
            print(f"repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
            measured = run_pair(paths, folder, processor_first=repeat % 2 == 0)
            if measured["nbmake"][2] != measured["processor"][2]:
                raise BenchmarkFailed(
                    f"verdicts differ: nbmake {measured['nbmake'][2]} vs processor {measured['processor'][2]}"
                )
            for name, (wall, cpu, _) in measured.items():
                samples[name]["wall"].append(wall)
                samples[name]["cpu"].append(cpu)
            ratios["wall"].append(measured["nbmake"][0] / measured["processor"][0])
            ratios["cpu"].append(measured["nbmake"][1] / measured["processor"][1])
        verdicts = measured["processor"][2]
    report(samples, ratios, verdicts, args)
    return 0


def _spread(summary: dict[str, float | int]) -> str:
    return f"{summary['median']:.2f} [{summary['min']:.2f} – {summary['max']:.2f}]"


def report(
    samples: dict[str, dict[str, list[float]]],
    ratios: dict[str, list[float]],
    verdicts: dict[str, bool],
    args: argparse.Namespace,
) -> None:
    passed = sum(verdicts.values())
    stats = {
        name: {kind: figures.summary(values) for kind, values in by_kind.items()}
        for name, by_kind in samples.items()
    }
    ratio_stats = {kind: figures.summary(values) for kind, values in ratios.items()}
    rows = [
        [name, _spread(stats[name]["wall"]), _spread(stats[name]["cpu"])]
        for name in ("nbmake", "processor")
    ]
    print(
        f"## Validating {args.notebooks} notebooks ({passed} pass, {len(verdicts) - passed} fail), {args.repeats} repeats\n"
    )
    print(figures.table(["command", "wall s, median [min – max]", "CPU s (process tree)"], rows))
    print()
    print(
        figures.table(
            ["ratio nbmake / processor", "median [min – max]"],
            [[k, _spread(v)] for k, v in ratio_stats.items()],
        )
    )
    met = ratio_stats["wall"]["median"] >= TARGET_RATIO
    print(
        f"\nSame verdicts in every repeat. Target: at least {TARGET_RATIO:g}x faster in wall time: {'met' if met else 'NOT met'}."
    )
    path = figures.write_results(
        "notebooks",
        {
            "notebooks": args.notebooks,
            "repeats": args.repeats,
            "verdicts": verdicts,
            "samples": samples,
            "summary": stats,
            "ratios": ratios,
            "ratio_summary": ratio_stats,
        },
    )
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
