"""The studio's live view: how soon an item's state shows in the page, and what a page costs a run.

Two measurements, one script, in a real headless Chromium (Debian's ``chromium``):

- **latency**: the studio follows a workspace whose event stream this script
  writes itself (``session.start``, ``session.items``, then ``item.start`` and
  ``item.finish`` of each item, one item every ``--interval`` seconds). The
  page records when it drew each item's final state
  (``window.iterbenchStudio.shown``); latency = that time minus the time the
  ``item.finish`` line was written. Target: under 200 ms (the follower polls
  every 50 ms).
- **overhead**: the same small run (``--iterations`` trivial iterations × 2
  metrics, serial) started from the studio, alternately with no page open and
  with a page open on the Workflow panel, ``--repeats`` times each; a run's
  time is its ``session.start`` to ``session.finish`` in the event stream.
  Overhead = median with a page / median without − 1.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_studio.py [--items 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import figures
from playwright.sync_api import Browser, sync_playwright

from pytest_iterbench.results.events import EventLog, events_path, read_events
from pytest_iterbench.studio.app import create_app
from pytest_iterbench.studio.server import ServerThread
from pytest_iterbench.workspace.paths import WorkspacePaths

TOKEN = "bench-token"
MAIN = "def run(parameters):\n    return {'y_true': [0, 1, 1, 0], 'y_pred': [0, 1, 0, 0]}\n"


def make_workspace(root: Path, iterations: int) -> Path:
    ids = [f"it{k}" for k in range(iterations)]
    for iteration in ids:
        (root / "iterations" / iteration).mkdir(parents=True)
        (root / "iterations" / iteration / "main.py").write_text(MAIN)
    entries = [{"id": i, "source_path": f"iterations/{i}", "entry_point": "main.py"} for i in ids]
    metrics = [
        {
            "id": "accuracy",
            "class": "pytest_iterbench.metrics.AccuracyMetric",
            "higher_is_better": True,
            "unit": "%",
        },
        {
            "id": "f1_macro",
            "class": "pytest_iterbench.metrics.F1MacroMetric",
            "higher_is_better": True,
            "unit": "",
        },
    ]
    runs = [{"id": "run-001", "iteration_ids": ids, "metric_ids": ["accuracy", "f1_macro"]}]
    for name, key, value in (
        ("iterations", "iterations", entries),
        ("metrics", "metrics", metrics),
        ("runs", "runs", runs),
    ):
        (root / f"{name}.json").write_text(json.dumps({key: value}))
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def open_page(browser: Browser, server: ServerThread) -> Any:
    page = browser.new_page()
    page.goto(f"{server.base}/?token={TOKEN}")
    page.wait_for_selector("#connection.ok")
    page.click("#tab-workflow")
    return page


def latency(browser: Browser, root: Path, items: int, interval: float) -> list[float]:
    """Milliseconds from each ``item.finish`` written to its state drawn in the page."""
    stream = events_path(WorkspacePaths(root).events_dir)
    with ServerThread(create_app(root, TOKEN)) as server:
        page = open_page(browser, server)
        log = EventLog(stream)
        session = f"bench-{time.time_ns()}"
        nodeids = [f"runs.json::run-001::item{k}" for k in range(items)]
        fields = {"session_id": session, "run_id": "run-001"}
        log.emit("session.start", workers=0, args=[], **fields)
        log.emit("session.items", total=items, items=nodeids, **fields)
        written: dict[str, float] = {}
        for nodeid in nodeids:
            log.emit("item.start", nodeid=nodeid, **fields)
            time.sleep(interval)
            written[nodeid] = time.time() * 1000
            log.emit("item.finish", nodeid=nodeid, outcome="passed", duration=interval, **fields)
        page.wait_for_function(
            f"() => Object.keys(window.iterbenchStudio.shown).length >= {items}", timeout=30_000
        )
        shown = page.evaluate("() => window.iterbenchStudio.shown")
        log.emit(
            "session.finish",
            exitstatus=0,
            counts={"passed": items},
            records=0,
            reports=[],
            **fields,
        )
        log.close()
        page.close()
    return [shown[f"{session} {n}"] - written[n] for n in nodeids]


def _seconds(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def one_run(server: ServerThread, root: Path, browser: Browser | None) -> float:
    """Seconds from ``session.start`` to ``session.finish`` of one run started from the studio."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    page = open_page(browser, server) if browser is not None else None
    stream = events_path(WorkspacePaths(root).events_dir)
    before = len(read_events(stream))
    request = urllib.request.Request(
        server.base + "/execute",
        data=json.dumps({"target": "run-001"}).encode(),
        headers={"X-Iterbench-Token": TOKEN},
        method="POST",
    )
    opener.open(request, timeout=30).read()
    app_runner = server.server.config.app.state.studio.runner
    while app_runner.current_own() is not None:
        time.sleep(0.05)
    events = read_events(stream)[before:]
    start = next(e for e in events if e["event"] == "session.start")
    finish = next(e for e in events if e["event"] == "session.finish")
    if page is not None:
        page.close()
    return _seconds(finish["at"]) - _seconds(start["at"])


def overhead(browser: Browser, root: Path, repeats: int) -> tuple[list[float], list[float]]:
    without, with_page = [], []
    with ServerThread(create_app(root, TOKEN)) as server:
        one_run(server, root, None)  # warm-up: imports, the index, caches
        for _ in range(repeats):
            without.append(one_run(server, root, None))
            with_page.append(one_run(server, root, browser))
    return without, with_page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium: install Debian's chromium (make setup)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        root = make_workspace(Path(tmp), args.iterations)
        delays = sorted(latency(browser, root, args.items, args.interval))
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(
            f"latency item.finish -> page, {len(delays)} items: median {statistics.median(delays):.0f} ms, p95 {p95:.0f} ms, max {delays[-1]:.0f} ms (target < 200 ms)"
        )
        without, with_page = overhead(browser, root, args.repeats)
        ratio = statistics.median(with_page) / statistics.median(without)
        print(
            f"run without a page: {', '.join(f'{s:.2f}' for s in without)} s (median {statistics.median(without):.2f})"
        )
        print(
            f"run with a page:    {', '.join(f'{s:.2f}' for s in with_page)} s (median {statistics.median(with_page):.2f})"
        )
        print(f"overhead of an open page: {100 * (ratio - 1):+.1f} % (ratio {ratio:.3f})")
        browser.close()
    path = figures.write_results(
        "bench_studio",
        {
            "latency_ms": {**figures.summary(delays), "samples": delays, "target": 200},
            "run_seconds_without_page": {**figures.summary(without), "samples": without},
            "run_seconds_with_page": {**figures.summary(with_page), "samples": with_page},
            "overhead_ratio": ratio,
        },
    )
    print(f"figures: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
