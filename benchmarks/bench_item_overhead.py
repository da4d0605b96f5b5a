"""The harness's overhead per pytest item, against plain parametrized pytest items.

Four kinds of session run as subprocesses, each in a fresh copy of its folder:

- plain-100 / plain-1000: a test file with ``@pytest.mark.parametrize("i", range(N))``
  calling a trivial function (the baseline);
- unloaded-100: plain-100 with ``-p no:iterbench``: against plain-100, what the
  installed plugin costs a suite that never names a run;
- harness-100 / harness-1000: ``pytest --iterbench bench`` on a workspace of 10
  trivial iterations × 10 or 100 trivial metric classes;
- wide-40 / wide-400: one trivial iteration × 40 or 400 trivial metric classes
  (every item reads the same execution: what is left is the per-item cost of
  the harness itself).

Two sizes separate the fixed session cost (interpreter, plugins, template start,
validation, report) from the cost per item: per item = (t_1000 - t_100) / 900,
fixed = t_100 - 100 × per item, computed per repeat. Each repeat runs all four,
alternating baseline and harness.

Every session is measured three ways: wall time; CPU time of the whole process
tree (``RUSAGE_CHILDREN``: pytest, the process template and its forks), which
other processes on a busy machine disturb far less than wall time; and phase
timestamps written by a tiny plugin loaded into both variants alike
(``-p phase_timer``), which say where the time goes.

    .venv/bin/python benchmarks/bench_item_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import figures
import user_install

SMALL, LARGE = 100, 1000
WIDE_SMALL, WIDE_LARGE = 40, 400
ITERATIONS = 10
RUN_ID = "bench"
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
TIMER = ("-p", "phase_timer")  # `python -m` puts the session's folder on sys.path
STAMPS_FILE = "phase_stamps.json"
UNLOADED = ("-p", "no:iterbench")  # the plugin not loaded at all
ORDER = (
    "unloaded-100",
    "plain-100",
    "harness-100",
    "plain-1000",
    "harness-1000",
    "wide-40",
    "wide-400",
)
SIZES = {"plain": (SMALL, LARGE), "harness": (SMALL, LARGE), "wide": (WIDE_SMALL, WIDE_LARGE)}

PLAIN_TEST = """
import pytest


def trivial():
    return sum(range(10))


@pytest.mark.parametrize("i", range({items}))
def test_trivial(i):
    assert trivial() == 45
"""

TRIVIAL_MAIN = """
def run(parameters):
    return {"value": 1}
"""

METRIC_CLASS = """
class M{n}(BaseMetric):
    def measure(self, iteration_path, entry_point, parameters):
        return MetricResult(metric_id="m{n}", value=1.0, unit="")
"""

# CLOCK_MONOTONIC is one clock for every process on Linux, so the session's
# stamps and the parent's spawn and exit times can be subtracted.
PHASE_TIMER = f'''
"""Phase timestamps of this session, for the benchmark that started it."""
import json
import time

import pytest

STAMPS = {{}}


def _stamp(name):
    STAMPS[name] = time.clock_gettime(time.CLOCK_MONOTONIC)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    _stamp("configure")


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    _stamp("collection")


def pytest_collection_finish(session):
    _stamp("collection_finish")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    _stamp("runtestloop")


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session):
    _stamp("sessionfinish")  # innermost wrapper: brackets the plugins' own sessionfinish
    result = yield
    _stamp("sessionfinish_end")
    return result


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    with open({STAMPS_FILE!r}, "w", encoding="utf-8") as handle:
        json.dump(STAMPS, handle)
'''

# (phase, stamp it starts at, stamp it ends at); "spawn" and "exit" are the parent's.
PHASES = (
    ("startup", "spawn", "configure"),
    ("configure", "configure", "collection"),
    ("collection", "collection", "collection_finish"),
    ("run loop", "runtestloop", "sessionfinish"),
    ("sessionfinish", "sessionfinish", "sessionfinish_end"),
    ("summary + exit", "sessionfinish_end", "exit"),
)
MEASURES = ("wall", "cpu", *(phase for phase, _, _ in PHASES))


class BenchmarkFailed(RuntimeError):
    """A session did not do what the benchmark measures; its figures would mean nothing."""


@dataclass(frozen=True)
class Variant:
    """One kind of session: its folder is built once, copied fresh for every session."""

    kind: str  # "plain" or "harness"
    items: int
    build: Callable[[Path, int], None]
    arguments: tuple[str, ...]
    check: Callable[[Path, int, subprocess.CompletedProcess[str]], None]

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.items}"

    @property
    def command(self) -> list[str]:
        return [*PYTEST, *TIMER, *self.arguments]


def _common_files(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "phase_timer.py").write_text(PHASE_TIMER, encoding="utf-8")


def build_plain(folder: Path, items: int) -> None:
    _common_files(folder)
    (folder / "test_plain.py").write_text(PLAIN_TEST.format(items=items), encoding="utf-8")


def build_workspace(folder: Path, items: int, iteration_count: int = ITERATIONS) -> None:
    """``iteration_count`` trivial iterations × ``items / iteration_count`` trivial metric classes."""
    _common_files(folder)
    metrics = items // iteration_count
    classes = "".join(METRIC_CLASS.format(n=n) for n in range(metrics))
    header = "from pytest_iterbench import BaseMetric, MetricResult\n"
    (folder / "bench_metrics.py").write_text(header + classes, encoding="utf-8")
    iterations = []
    for i in range(iteration_count):
        source = folder / "iterations" / f"it{i}"
        source.mkdir(parents=True)
        (source / "main.py").write_text(textwrap.dedent(TRIVIAL_MAIN), encoding="utf-8")
        iterations.append(
            {"id": f"it{i}", "source_path": f"iterations/it{i}", "entry_point": "main.py"}
        )
    definitions = [
        {
            "id": f"m{n}",
            "name": f"m{n}",
            "class": f"bench_metrics.M{n}",
            "unit": "",
            "higher_is_better": True,
        }
        for n in range(metrics)
    ]
    run = {
        "id": RUN_ID,
        "iteration_ids": [it["id"] for it in iterations],
        "metric_ids": [m["id"] for m in definitions],
    }
    for name, key, entries in (
        ("iterations.json", "iterations", iterations),
        ("metrics.json", "metrics", definitions),
        ("runs.json", "runs", [run]),
    ):
        (folder / name).write_text(json.dumps({key: entries}, indent=2), encoding="utf-8")


def build_wide(folder: Path, items: int) -> None:
    """One trivial iteration × ``items`` trivial metric classes."""
    build_workspace(folder, items, iteration_count=1)


def _require_passed(completed: subprocess.CompletedProcess[str], items: int) -> None:
    if completed.returncode != 0 or f"{items} passed" not in completed.stdout:
        raise BenchmarkFailed(
            f"{completed.args}: expected exit code 0 and '{items} passed', got exit code "
            f"{completed.returncode}; output tail:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )


def check_plain(folder: Path, items: int, completed: subprocess.CompletedProcess[str]) -> None:
    _require_passed(completed, items)


def check_workspace(folder: Path, items: int, completed: subprocess.CompletedProcess[str]) -> None:
    """Exit code 0 is not enough (an INTERNALERROR can exit 0): count the records too."""
    _require_passed(completed, items)
    path = folder / "results.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError) as exc:
        raise BenchmarkFailed(f"{path}: expected a results document, got {exc!r}") from exc
    passed = {
        (r["iteration_id"], r["metric_id"])
        for r in records
        if r.get("status") == "passed" and r.get("value") == 1.0
    }
    if len(records) != items or len(passed) != items:
        raise BenchmarkFailed(
            f"{path}: expected {items} passed records of value 1.0 for distinct (iteration, metric) pairs, "
            f"got {len(records)} records, {len(passed)} distinct passed pairs"
        )


HARNESS_ARGUMENTS = ("--iterbench", RUN_ID, "--iterbench-dir", ".")
VARIANTS = {
    v.name: v
    for v in (
        Variant("unloaded", SMALL, build_plain, ("test_plain.py", *UNLOADED), check_plain),
        Variant("plain", SMALL, build_plain, ("test_plain.py",), check_plain),
        Variant("harness", SMALL, build_workspace, HARNESS_ARGUMENTS, check_workspace),
        Variant("plain", LARGE, build_plain, ("test_plain.py",), check_plain),
        Variant("harness", LARGE, build_workspace, HARNESS_ARGUMENTS, check_workspace),
        Variant("wide", WIDE_SMALL, build_wide, HARNESS_ARGUMENTS, check_workspace),
        Variant("wide", WIDE_LARGE, build_wide, HARNESS_ARGUMENTS, check_workspace),
    )
}


def session_environment(pycache: Path) -> dict[str, str]:
    """The parent's environment, minus what would change pytest's behaviour.

    Bytecode goes to ``pycache`` (``PYTHONPYCACHEPREFIX``), never into the
    repository or site-packages, and is written even where the caller's
    environment sets ``PYTHONDONTWRITEBYTECODE``: without a cache, pytest
    re-rewrites the assertions of every plugin module in every session, a
    fixed cost no user with a normal setup pays. Generated sources (test file,
    metrics module, iterations) live in a fresh folder per session, so both
    variants compile theirs every time alike.

    The development environment's own pytest plugins (``user_install.py``) are
    left out through ``PYTEST_ADDOPTS``: sessions load what a user's install loads.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    left_out = user_install.plugins_left_out()
    if left_out:
        env["PYTEST_ADDOPTS"] = user_install.pytest_addopts(left_out)
    return env


def _monotonic() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phases(stamps: dict[str, float], folder: Path) -> dict[str, float]:
    missing = {start for _, start, _ in PHASES} - set(stamps)
    if missing:
        raise BenchmarkFailed(f"{folder / STAMPS_FILE}: missing phase stamps {sorted(missing)}")
    return {phase: stamps[end] - stamps[start] for phase, start, end in PHASES}


class Runner:
    """Runs sessions of each variant, every one in a fresh copy of the variant's folder."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.env = session_environment(scratch / "pycache")
        self.templates: dict[str, Path] = {}
        self.count = 0
        for variant in VARIANTS.values():
            template = scratch / "templates" / variant.name
            variant.build(template, variant.items)
            self.templates[variant.name] = template

    def session(self, name: str) -> dict[str, float]:
        """Wall, CPU and phase seconds of one checked session of variant ``name``."""
        variant = VARIANTS[name]
        self.count += 1
        folder = self.scratch / "sessions" / f"{self.count:03d}-{name}"
        shutil.copytree(self.templates[name], folder)
        cpu_before = _children_cpu()
        spawn = _monotonic()
        completed = subprocess.run(
            variant.command, cwd=folder, env=self.env, capture_output=True, text=True, check=False
        )
        end = _monotonic()
        cpu = _children_cpu() - cpu_before
        variant.check(folder, variant.items, completed)
        stamps = json.loads((folder / STAMPS_FILE).read_text(encoding="utf-8"))
        shutil.rmtree(folder)
        return {
            "wall": end - spawn,
            "cpu": cpu,
            **phases({**stamps, "spawn": spawn, "exit": end}, folder),
        }


Samples = dict[str, dict[str, list[float]]]  # variant -> measure -> one value per repeat


def measure(repeats: int) -> Samples:
    with tempfile.TemporaryDirectory(prefix="iterbench-bench-items-") as scratch:
        runner = Runner(Path(scratch))
        for name in ORDER:  # warm-up: page cache and bytecode cache; not recorded
            runner.session(name)
        samples: Samples = {name: {m: [] for m in MEASURES} for name in ORDER}
        for repeat in range(repeats):
            for name in ORDER:
                for key, value in runner.session(name).items():
                    samples[name][key].append(value)
            print(
                f"repeat {repeat + 1}/{repeats}: "
                + ", ".join(f"{n} {figures.duration(samples[n]['wall'][-1])}" for n in ORDER),
                file=sys.stderr,
            )
    return samples


def decompose(samples: Samples, kind: str, key: str) -> tuple[list[float], list[float]]:
    """Per-repeat (per-item cost, fixed cost) of measure ``key`` for ``kind``, from its two sizes."""
    low, high = SIZES[kind]
    small, large = samples[f"{kind}-{low}"][key], samples[f"{kind}-{high}"][key]
    per_item = [(b - a) / (high - low) for a, b in zip(small, large, strict=True)]
    fixed = [a - low * p for a, p in zip(small, per_item, strict=True)]
    return per_item, fixed


def cost_model(samples: Samples, key: str) -> dict[str, Any]:
    """Fixed and per-item cost of both kinds for one measure, with per-repeat ratios."""
    per_item_plain, fixed_plain = decompose(samples, "plain", key)
    per_item_harness, fixed_harness = decompose(samples, "harness", key)
    per_item_wide, fixed_wide = decompose(samples, "wide", key)
    pairs = list(zip(per_item_harness, per_item_plain, strict=True))
    wide_pairs = list(zip(per_item_wide, per_item_plain, strict=True))
    large = zip(samples[f"harness-{LARGE}"][key], samples[f"plain-{LARGE}"][key], strict=True)
    return {
        "fixed_seconds": {
            "plain": figures.summary(fixed_plain),
            "harness": figures.summary(fixed_harness),
        },
        "per_item_seconds": {
            "plain": figures.summary(per_item_plain),
            "harness": figures.summary(per_item_harness),
        },
        "per_item_ratio_harness_over_plain": figures.summary([h / p for h, p in pairs]),
        "wide_fixed_seconds": figures.summary(fixed_wide),
        "wide_per_item_seconds": figures.summary(per_item_wide),
        "wide_per_item_ratio_over_plain": figures.summary([w / p for w, p in wide_pairs]),
        "per_item_extra_seconds_harness_minus_plain": figures.summary([h - p for h, p in pairs]),
        f"ratio_harness_over_plain_at_{LARGE}": figures.summary([h / p for h, p in large]),
    }


def idle_cost(samples: Samples, key: str) -> dict[str, Any]:
    """What the installed plugin costs a plain suite that never names a run (per repeat)."""
    pairs = list(
        zip(samples[f"plain-{SMALL}"][key], samples[f"unloaded-{SMALL}"][key], strict=True)
    )
    return {
        "extra_seconds": figures.summary([loaded - unloaded for loaded, unloaded in pairs]),
        "ratio": figures.summary([loaded / unloaded for loaded, unloaded in pairs]),
    }


def analyse(samples: Samples) -> dict[str, Any]:
    return {
        "sessions": {
            name: {key: figures.summary(values) for key, values in measures.items()}
            for name, measures in samples.items()
        },
        "wall": cost_model(samples, "wall"),
        "cpu": cost_model(samples, "cpu"),
        "phases": {phase: cost_model(samples, phase) for phase, _, _ in PHASES},
        "idle_plugin": {key: idle_cost(samples, key) for key in ("wall", "cpu")},
        "raw": samples,
    }


def ratio_text(stats: dict[str, float | int]) -> str:
    return f"{stats['median']:.2f}× [{stats['min']:.2f} – {stats['max']:.2f}]"


def session_table(result: dict[str, Any]) -> str:
    rows = []
    for name in ORDER:
        wall, cpu = result["sessions"][name]["wall"], result["sessions"][name]["cpu"]
        iqr = f"{figures.duration(wall['q1'])} – {figures.duration(wall['q3'])}"
        rows.append([name, wall["n"], figures.spread(wall), iqr, figures.spread(cpu)])
    headers = ["session", "n", "wall median [min – max]", "wall IQR", "CPU median [min – max]"]
    return figures.table(headers, rows)


def cost_table(result: dict[str, Any]) -> str:
    rows = []
    for key, label in (("wall", "wall"), ("cpu", "CPU")):
        model = result[key]
        rows += [
            [
                f"fixed session cost ({label})",
                figures.spread(model["fixed_seconds"]["plain"]),
                figures.spread(model["fixed_seconds"]["harness"]),
                "",
            ],
            [
                f"**per-item cost ({label})**",
                figures.spread(model["per_item_seconds"]["plain"]),
                figures.spread(model["per_item_seconds"]["harness"]),
                ratio_text(model["per_item_ratio_harness_over_plain"]),
            ],
            [
                f"session at {LARGE} items ({label})",
                figures.spread(result["sessions"][f"plain-{LARGE}"][key]),
                figures.spread(result["sessions"][f"harness-{LARGE}"][key]),
                ratio_text(model[f"ratio_harness_over_plain_at_{LARGE}"]),
            ],
            [
                f"**per-item cost, 1 iteration × {WIDE_LARGE} metrics ({label})**",
                figures.spread(model["per_item_seconds"]["plain"]),
                figures.spread(model["wide_per_item_seconds"]),
                ratio_text(model["wide_per_item_ratio_over_plain"]),
            ],
        ]
    return figures.table(["", "plain pytest", "iterbench", "ratio iterbench/plain"], rows)


def phase_table(result: dict[str, Any]) -> str:
    rows = []
    for phase, _, _ in PHASES:
        model = result["phases"][phase]
        rows.append(
            [
                phase,
                figures.duration(result["sessions"][f"plain-{LARGE}"][phase]["median"]),
                figures.duration(result["sessions"][f"harness-{LARGE}"][phase]["median"]),
                figures.spread(model["per_item_seconds"]["plain"]),
                figures.spread(model["per_item_seconds"]["harness"]),
            ]
        )
    headers = [
        "phase (wall)",
        f"plain-{LARGE} median",
        f"harness-{LARGE} median",
        "per item, plain",
        "per item, iterbench",
    ]
    return figures.table(headers, rows)


def render(result: dict[str, Any], repeats: int) -> str:
    wall_extra = result["wall"]["per_item_extra_seconds_harness_minus_plain"]
    cpu_extra = result["cpu"]["per_item_extra_seconds_harness_minus_plain"]
    idle = result["idle_plugin"]
    return "\n\n".join(
        [
            f"## Item overhead ({repeats} repeats; median [min – max] over repeats)",
            session_table(result),
            cost_table(result),
            f"Harness cost per item above plain pytest: wall {figures.spread(wall_extra)}, "
            f"CPU {figures.spread(cpu_extra)}.",
            f"The plugin installed but unused (plain-{SMALL} against unloaded-{SMALL}, "
            f"`{' '.join(UNLOADED)}`): wall {ratio_text(idle['wall']['ratio'])}, "
            f"{figures.spread(idle['wall']['extra_seconds'])} more; "
            f"CPU {ratio_text(idle['cpu']['ratio'])}, {figures.spread(idle['cpu']['extra_seconds'])} more.",
            "Where the time goes (phases from in-session timestamps):",
            phase_table(result),
            f"Checked: every harness session exited 0 and wrote as many passed records to results.json as it had items ({SMALL}, {LARGE}, {WIDE_SMALL} or {WIDE_LARGE}).",
            user_install.describe(user_install.plugins_left_out()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="sessions of each variant")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    try:
        samples = measure(args.repeats)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    result = analyse(samples)
    print(render(result, args.repeats))
    path = figures.write_results(
        "item_overhead",
        {
            "repeats": args.repeats,
            "sizes": {"small": SMALL, "large": LARGE, "iterations": ITERATIONS},
            "session_commands": {name: VARIANTS[name].command for name in ORDER},
            "session_env": {
                "PYTHONPYCACHEPREFIX": "<scratch>/pycache",
                "removed": ["PYTHONDONTWRITEBYTECODE", "PYTEST_*"],
                "plugins_left_out": user_install.plugins_left_out(),
            },
            "load_average_before": list(load_before),
            **result,
        },
    )
    print(f"\nFigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
