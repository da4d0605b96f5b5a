"""Report generation time and peak memory for 100,000 and 1,000,000 records.

Each size is measured in a fresh subprocess, so that one measurement's imports
and memory do not hide the next. The child builds ``results.json``-shaped
records in memory, then measures

- **cold**: ``import pytest_iterbench.report.writer`` plus the first ``write_reports``
  (Markdown, plots, HTML): what ``pytest --iterbench`` or ``iterbench report``
  pays at the end of a session, matplotlib's import included;
- **warm** ``write_reports`` and ``render_report`` (the Markdown alone:
  grouping, statistics, Pareto front, history), the median of ``--repeats``;
- **memory** the report adds above the records it is given: the peak resident
  set size during the cold call minus the resident set size just before it
  (``ru_maxrss``), and, in an untimed pass, the peak of Python allocations
  under ``tracemalloc`` (which slows Python down severalfold).

The records have the shape the plugin writes: one run, 20 iterations (a chain
of parents, the first tagged baseline) × 5 metrics (two qualities, a time, a
memory, a size) × 5 repeats per session, over as many sessions as the size
needs (1,000 or 10,000); one iteration in five changes its configuration
halfway, so the history has samples to leave out, and 0.2% of the records are
errors. Their nested dicts (environment, parameters) are shared between
records: the report never copies a record, and what parsing ``results.json``
costs belongs to reading the file. That cost is measured apart, for
100,000 records, as context.

    .venv/bin/python benchmarks/bench_report.py [--sizes 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import figures

RUN_ID = "bench"
ITERATIONS = 20
REPEATS_PER_SESSION = 5
METRICS = (
    ("accuracy", "%", True, 90.0, 1.0),
    ("f1_macro", "", True, 0.9, 0.01),
    ("exec_time", "seconds", False, 2.0, 0.2),
    ("peak_memory", "MB", False, 300.0, 10.0),
    ("source_lines", "lines", False, 120.0, 0.0),
)
TARGET_SECONDS = {100_000: 2.0, 1_000_000: 20.0}
TARGET_MEMORY_MB = 1024
PARSE_CONTEXT_SIZE = 100_000


class BenchmarkFailed(Exception):
    """The report did not say what it should: its timings would mean nothing."""


def _session(s: int) -> tuple[str, str]:
    """A sortable session id and a timestamp for session number ``s``."""
    hour, days = s % 24, s // 24
    year, month, day = 2026 + days // (28 * 12), 1 + days // 28 % 12, 1 + days % 28
    stamp = f"{year}{month:02d}{day:02d}T{hour:02d}0000Z"
    return f"{stamp}-{s:08x}", f"{year}-{month:02d}-{day:02d}T{hour:02d}:00:00.000Z"


def make_records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` records of one run, sessions oldest first, with repeats and a lineage."""
    rng = random.Random(seed)
    environment = {
        "platform": "linux-x86_64",
        "python": "3.11.7",
        "cpu": "bench CPU",
        "cpu_count": 16,
        "gpu": None,
        "packages": {"torch": "2.13.0+cpu", "numpy": "2.4.6"},
    }
    iterations = [f"v{k:02d}" for k in range(ITERATIONS)]
    parameters = {i: {"lr": 10 ** -(1 + k % 4), "epochs": 10 + k} for k, i in enumerate(iterations)}
    per_session = ITERATIONS * len(METRICS) * REPEATS_PER_SESSION
    sessions = -(-count // per_session)
    records: list[dict[str, Any]] = []
    for s in range(sessions):
        session, stamp = _session(s)
        for k, iteration in enumerate(iterations):
            changed = k % 5 == 0 and s >= sessions // 2
            for metric, unit, higher, centre, sd in METRICS:
                for repeat in range(REPEATS_PER_SESSION):
                    if len(records) == count:
                        return records
                    failed = rng.random() < 0.002
                    records.append(
                        {
                            "record_id": f"{len(records):x}",
                            "session_id": session,
                            "run_id": RUN_ID,
                            "iteration_id": iteration,
                            "metric_id": metric,
                            "value": None if failed else rng.gauss(centre + k * sd / 4, sd),
                            "unit": unit,
                            "status": "error" if failed else "passed",
                            "reason": "RuntimeError: synthetic failure" if failed else None,
                            "executed_at": stamp,
                            "parameters": parameters[iteration],
                            "git_commit": "0" * 40,
                            "nodeid": f"runs.json::{RUN_ID}::{iteration}-{metric}",
                            "higher_is_better": higher,
                            "iteration_parent": iterations[k - 1] if k else None,
                            "iteration_tags": ["baseline"] if k == 0 else [],
                            "config_hash": f"cfg-{iteration}-{int(changed)}",
                            "repeat": repeat,
                            "seed": repeat,
                            "environment": environment,
                            "metadata": {},
                        }
                    )
    return records


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(workspace: Path, paths: list[Path]) -> None:
    markdown = (workspace / "reports" / "comparison_report.md").read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("| v")]
    expected = {"## Results", "## Trade-offs", "## History", "```mermaid"}
    missing = [part for part in expected if part not in markdown]
    if missing or len(rows) < ITERATIONS:
        raise BenchmarkFailed(f"report lacks {missing} or rows ({len(rows)} < {ITERATIONS})")
    if not any(p.suffix == ".png" for p in paths) or not any(p.suffix == ".html" for p in paths):
        raise BenchmarkFailed(f"plots or HTML missing: {[p.name for p in paths]}")


def child(count: int, repeats: int) -> dict[str, Any]:
    """One size, measured in this fresh process."""
    started = time.perf_counter()
    records = make_records(count)
    built = time.perf_counter() - started
    workspace = Path(tempfile.mkdtemp(prefix="iterbench-bench-report-"))
    rss_before, max_rss_before = _rss_mb(), _max_rss_mb()
    started = time.perf_counter()
    from pytest_iterbench.report.writer import render_report, write_reports

    paths = write_reports(workspace, records, RUN_ID)
    cold = time.perf_counter() - started
    rss_added = _max_rss_mb() - rss_before
    _check(workspace, paths)
    full, markdown = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        write_reports(workspace, records, RUN_ID)
        full.append(time.perf_counter() - started)
        started = time.perf_counter()
        render_report(records, RUN_ID)
        markdown.append(time.perf_counter() - started)
    tracemalloc.start()
    write_reports(workspace, records, RUN_ID)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "records": len(records),
        "build_records_s": built,
        "cold_write_reports_s": cold,
        "warm_write_reports_s": figures.summary(full),
        "warm_render_report_s": figures.summary(markdown),
        "rss_before_mb": rss_before,
        "max_rss_before_mb": max_rss_before,
        "rss_added_by_cold_call_mb": rss_added,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "plots": len([p for p in paths if p.suffix == ".png"]),
    }


def parse_context(count: int) -> dict[str, Any]:
    """What ``json.loads`` of a ``results.json`` of ``count`` records costs (not the report)."""
    from pytest_iterbench.results.store import dump_results

    with tempfile.TemporaryDirectory(prefix="iterbench-bench-parse-") as scratch:
        path = Path(scratch) / "results.json"
        path.write_text(dump_results(make_records(count)), encoding="utf-8")
        code = (
            "import json, resource, time\n"
            "started = time.perf_counter()\n"
            f"records = json.loads(open({str(path)!r}, encoding='utf-8').read())['results']\n"
            "print(time.perf_counter() - started,"
            " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        seconds, max_rss = map(float, out.stdout.split())
        return {
            "records": count,
            "file_mb": path.stat().st_size / 2**20,
            "json_load_s": seconds,
            "max_rss_mb": max_rss,
        }


def render(results: list[dict[str, Any]], parse: dict[str, Any] | None) -> str:
    rows = []
    for r in results:
        target = TARGET_SECONDS.get(r["records"])
        rows.append(
            (
                f"{r['records']:,}",
                figures.duration(r["cold_write_reports_s"]),
                figures.spread(r["warm_write_reports_s"]),
                figures.spread(r["warm_render_report_s"]),
                f"{r['rss_added_by_cold_call_mb']:.0f} MB",
                f"{r['tracemalloc_peak_mb']:.0f} MB",
                f"{r['rss_before_mb']:.0f} MB",
                "-"
                if target is None
                else (
                    "yes"
                    if r["cold_write_reports_s"] < target
                    and r["rss_added_by_cold_call_mb"] < TARGET_MEMORY_MB
                    else "NO"
                ),
            )
        )
    text = figures.table(
        (
            "records",
            "cold write_reports",
            "warm write_reports",
            "warm render_report (Markdown only)",
            "peak RSS added",
            "tracemalloc peak",
            "records in memory (RSS before)",
            "within target",
        ),
        rows,
    )
    if parse is not None:
        text += (
            f"\n\nContext: reading a results.json of {parse['records']:,} records"
            f" ({parse['file_mb']:.0f} MB) with json.loads takes {figures.duration(parse['json_load_s'])}"
            f" and a peak RSS of {parse['max_rss_mb']:.0f} MB."
        )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="warm calls per size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        try:
            print(json.dumps(child(args.child, args.repeats)))
        except BenchmarkFailed as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        return 0
    results = []
    for size in args.sizes:
        print(f"measuring {size:,} records ...", file=sys.stderr)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--repeats", str(args.repeats)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        results.append(json.loads(out.stdout))
    parse = parse_context(PARSE_CONTEXT_SIZE) if PARSE_CONTEXT_SIZE in args.sizes else None
    print(render(results, parse))
    path = figures.write_results(
        "report",
        {
            "repeats": args.repeats,
            "targets_seconds": {str(k): v for k, v in TARGET_SECONDS.items()},
            "target_memory_mb": TARGET_MEMORY_MB,
            "sizes": results,
            "parse_context": parse,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
