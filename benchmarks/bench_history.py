"""What history costs: one trivial session and one report against 0 to 1M records already stored.

The history shape: real-shaped records (~1.15 KB each, the plugin's own
fields and environment) spread over 100 runs; the reported run ``run-001``
holds 1 % of them, in sessions of 100 records, most of them older than the
session measured; the rest belong to other runs. ``--all-in-run`` adds a
report against a history of which every record belongs to the reported run.

From 10,000 records on, ``run-001``'s history names 100 iterations (``v0`` to
``v99``), so its report, the session's included, compares 100 iterations where
the empty history's compares the session's one: the "vs empty" ratios mix the
history's size with the report's content. ``--one-pair`` writes histories whose
``run-001`` records all belong to the pair the session measures (``v1`` ×
``accuracy``): the report's content stays the same, and only the history grows.
``--resumed`` starts each session as the orchestrator does, with
``--iterbench-session`` (a new id each time): such a session first looks up
what its id has recorded already.

Each history is written once under ``--cache`` (default
``/tmp/iterbench-history``) by writing record lines directly, and reused; its
index is built once by a warm-up report (that time is shown apart: a fresh
clone pays it once, a session that appends pays only for what it appends).
Sessions and reports of all sizes are interleaved, ``--repeats`` times; each
runs in a fresh wrapper process that reports its child's peak RSS.

    python benchmarks/bench_history.py --sizes 0,10000,100000,1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import user_install
from bench_item_overhead import session_environment
from figures import summary, table

from pytest_iterbench.results.records import new_session_id

REPO = Path(__file__).resolve().parents[1]
RUNS = 100
SESSION_RECORDS = 100
MAIN = "def run(parameters):\n    return {'y_true': [0, 1, 1, 0], 'y_pred': [0, 1, 0, 0]}\n"
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "w = time.perf_counter() - t\n"
    "print(r.returncode, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.stderr.write(r.stdout.decode()[-3000:] if r.returncode else '')\n"
)


def write_workspace(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "iterations" / "v1").mkdir(parents=True, exist_ok=True)
    (folder / "iterations" / "v1" / "main.py").write_text(MAIN)
    iteration = {"id": "v1", "name": "v1", "source_path": "iterations/v1", "entry_point": "main.py"}
    metric = {
        "id": "accuracy",
        "name": "accuracy",
        "class": "pytest_iterbench.metrics.AccuracyMetric",
        "unit": "%",
        "higher_is_better": True,
    }
    run = {"id": "run-001", "name": "run-001", "iteration_ids": ["v1"], "metric_ids": ["accuracy"]}
    for name, key, entry in (
        ("iterations.json", "iterations", iteration),
        ("metrics.json", "metrics", metric),
        ("runs.json", "runs", run),
    ):
        (folder / name).write_text(json.dumps({key: [entry]}, indent=2))
    (folder / "pytest.ini").write_text("[pytest]\n")


def template_record() -> dict[str, Any]:
    """A record as the plugin writes it (about 1.15 KB), to be varied per line."""
    return {
        "record_id": "",
        "session_id": "",
        "run_id": "",
        "iteration_id": "",
        "metric_id": "accuracy",
        "value": 0.0,
        "unit": "%",
        "status": "passed",
        "reason": None,
        "executed_at": "2025-06-01T12:00:00.000Z",
        "parameters": {"lr": 0.001, "epochs": 30, "batch_size": 64, "dropout": 0.1},
        "git_commit": "3bc27bf0c0ffee0000000000000000000000beef",
        "nodeid": "runs.json::run-001::v1-accuracy",
        "higher_is_better": True,
        "iteration_parent": None,
        "iteration_tags": ["baseline"],
        "config_hash": "5f1e0c9a2b7d4e11",
        "repeat": 0,
        "seed": None,
        "environment": {
            "platform": "linux-x86_64",
            "platform_detail": "Linux-6.8.0-x86_64-with-glibc2.39",
            "python": "3.11.7",
            "implementation": "CPython",
            "cpu": "Intel(R) Xeon(R) Platinum 8480+ @ 2.00GHz",
            "cpu_count": 16,
            "gpu": "NVIDIA H200",
            "hostname": "ci-runner-07",
            "packages": {
                "pytest": "9.2.0",
                "pytest-iterbench": "0.1.0",
                "pytest-xdist": "3.8.0",
                "numpy": "2.2.1",
                "scikit-learn": "1.6.1",
                "torch": "2.5.1",
            },
            "threads_per_worker": 16,
            "cpus": 16,
            "exclusive_timing": True,
            "xdist_worker": None,
        },
        "metadata": {"samples": 10000, "note": "x" * 180},
    }


def write_history(path: Path, size: int, all_in_run: bool, one_pair: bool = False) -> None:
    """``size`` records, written as lines (no JSON round trip of the whole), in 100-record sessions.

    ``one_pair``: ``run-001``'s records are all ``v1`` × ``accuracy``, the session's pair.
    """
    base = template_record()
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{\n  "$schema": "schemas/results-schema.json",\n  "results": [\n')
        for n in range(size):
            session = n // SESSION_RECORDS
            run = 1 if all_in_run or session % RUNS == 0 else 2 + session % (RUNS - 1)
            base["record_id"] = f"{n:032x}"
            base["session_id"] = f"2025{session:010d}-hist"
            base["run_id"] = f"run-{run:03d}"
            base["iteration_id"] = "v1" if one_pair and run == 1 else f"v{n % SESSION_RECORDS}"
            base["value"] = (n % 997) / 997
            line = json.dumps(base)
            handle.write(("    " if n == 0 else ",\n    ") + line)
        handle.write(("\n" if size else "") + "  ]\n}\n")


def prepare(cache: Path, size: int, all_in_run: bool, one_pair: bool = False) -> tuple[Path, float]:
    """The workspace with a history of ``size`` records and its index; seconds the index took."""
    folder = cache / f"{'all-' if all_in_run else ''}{size}{'-one-pair' if one_pair else ''}"
    if not (folder / "results.json").exists():
        write_workspace(folder)
        started = time.perf_counter()
        write_history(folder / ".results.json.tmp", size, all_in_run, one_pair)
        os.replace(folder / ".results.json.tmp", folder / "results.json")
        print(f"# wrote {size} records in {time.perf_counter() - started:.1f} s", flush=True)
    write_workspace(folder)
    _, wall, _ = measure(report_command(folder), cache)  # builds the index when missing
    return folder, wall


def session_command(folder: Path, resumed: bool = False) -> list[str]:
    resume = ["--iterbench-session", new_session_id()] if resumed else []
    return [
        sys.executable,
        "-m",
        "pytest",
        "--iterbench",
        "run-001",
        "--iterbench-dir",
        str(folder),
        "-p",
        "no:cacheprovider",
        "-q",
        "--rootdir",
        str(folder),
        str(folder / "runs.json"),
        *resume,
    ]


def report_command(folder: Path) -> list[str]:
    return [sys.executable, "-m", "pytest_iterbench", "report", str(folder), "--run", "run-001"]


def measure(command: list[str], cache: Path) -> tuple[int, float, float]:
    """(exit status, wall seconds, peak RSS in MB) of ``command`` run in a fresh wrapper."""
    env = session_environment(cache / "pycache")
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    code, wall, rss = out.stdout.split()
    if int(code) not in (0,):
        raise RuntimeError(f"{' '.join(command)} exited {code}:\n{out.stderr}")
    return int(code), float(wall), int(rss) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/iterbench-history"))
    parser.add_argument(
        "--all-in-run", action="store_true", help="also: every record in the reported run"
    )
    parser.add_argument(
        "--one-pair",
        action="store_true",
        help="run-001's history holds only the session's pair (the report's content stays the same)",
    )
    parser.add_argument(
        "--resumed",
        action="store_true",
        help="sessions started as the orchestrator starts them (--iterbench-session)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    args.cache.mkdir(parents=True, exist_ok=True)
    cases = [(size, False) for size in sizes] + ([(max(sizes), True)] if args.all_in_run else [])
    folders, index_build = {}, {}
    for case in cases:
        folders[case], index_build[case] = prepare(args.cache, *case, args.one_pair)
    walls: dict[tuple[str, tuple[int, bool]], list[float]] = {}
    peaks: dict[tuple[str, tuple[int, bool]], list[float]] = {}
    session = functools.partial(session_command, resumed=args.resumed)
    for _ in range(args.repeats):
        for case in cases:  # interleaved: every size once per round
            for kind, command in (("session", session), ("report", report_command)):
                if kind == "session" and case[1]:
                    continue
                _, wall, peak = measure(command(folders[case]), args.cache)
                walls.setdefault((kind, case), []).append(wall)
                peaks.setdefault((kind, case), []).append(peak)
    base = {kind: summary(walls[kind, cases[0]])["median"] for kind in ("session", "report")}
    rows = []
    for case in cases:
        row: list[object] = [
            f"{case[0]:,}" + (" (all in run-001)" if case[1] else ""),
            f"{index_build[case]:.1f} s",
        ]
        for kind in ("session", "report"):
            if (kind, case) not in walls:
                row += ["-", "-", "-"]
                continue
            median = summary(walls[kind, case])["median"]
            row += [
                f"{median:.2f} s",
                f"{median / base[kind]:.2f}x",
                f"{max(peaks[kind, case]):.0f} MB",
            ]
        rows.append(row)
    headers = [
        "records",
        "first report (builds index)",
        "session",
        "vs empty",
        "session peak",
        "report",
        "vs empty",
        "report peak",
    ]
    shape = (
        "run-001's history: the session's pair only (`--one-pair`)"
        if args.one_pair
        else "run-001's history: 100 iterations from 10,000 records on"
    )
    started = " Sessions started with `--iterbench-session` (`--resumed`)." if args.resumed else ""
    print(f"{shape}.{started}\n\n{table(headers, rows)}")
    print(f"\n{user_install.describe(user_install.plugins_left_out())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
