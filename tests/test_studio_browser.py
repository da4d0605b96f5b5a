"""The studio's page in a real headless Chromium: plans, a live run, stop, catch-up, charts, code.

Debian's ``chromium`` driven by Playwright for Python (``make setup`` installs
both where it can). With ``ITERBENCH_SCREENSHOTS=DIR`` the tests save a
screenshot of each panel there (``docs/images/studio/`` holds the committed ones).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from studio_helpers import SLOW_MAIN, TOKEN, studio
from test_studio_api import CHILD_MAIN, GOOD_MAIN, plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="LOUD SKIP: playwright is not installed (pip install -e '.[dev]')"
)
if CHROMIUM is None:
    pytest.skip(
        "LOUD SKIP: no chromium on this machine (make setup installs Debian's package where apt-get runs as root)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow
FINAL = ("passed", "failed", "error", "skipped")
WAIT_MS = 90_000
#: Different predictions from one process to the next: repeats with a spread.
NOISY_MAIN = """
import os
def run(parameters):
    k = os.getpid() % 4
    return {"y_true": [0, 1, 1, 0, 1, 0, 1, 1], "y_pred": [0, 1, 1, 0, 1, 0, 1, 1][:8 - k] + [1, 0, 0, 1][:k]}
"""


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def open_page(browser, server, errors):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.base}/?token={TOKEN}")
    page.wait_for_selector("#connection.ok")
    return page


def screenshot(page, name):
    folder = os.environ.get("ITERBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def drop(page, name, text):
    """Drop a file on the drop zone, as a user drags one from the desktop."""
    page.evaluate(
        """([name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, {type: "application/json"}));
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        [name, text],
    )


def states(page):
    return page.eval_on_selector_all(
        "#items tbody tr", "rows => rows.map(r => [r.dataset.nodeid, r.dataset.state])"
    )


def test_plans_dropped_and_uploaded_are_checked_and_applied(workspace, browser, tmp_path):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    invalid = plan()
    invalid["iterations"][0]["parent"] = "nobody"
    errors: list[str] = []
    with studio(workspace.root) as server:
        page = open_page(browser, server, errors)
        drop(page, "broken.json", json.dumps(invalid, indent=2))
        entry = page.wait_for_selector('.entry.bad[data-entry="iterations[0]"]')
        assert "iterations[0].parent: unknown iteration 'nobody'" in entry.inner_text()
        assert page.is_disabled("#apply-plan")
        screenshot(page, "input-invalid")
        upload = tmp_path / "plan.json"
        upload.write_text(json.dumps(plan(), indent=2))
        page.set_input_files("#plan-file", str(upload))
        page.wait_for_selector("#plan-status .ok-text")
        assert "iterations v3; runs run-002" in page.inner_text("#plan-status")
        page.click("#apply-plan")
        page.wait_for_selector("#lineage ul.tree ul.tree li >> text=v3")  # v3 under good
        screenshot(page, "input")
        page.close()
    assert "v3" in (workspace.root / "iterations.json").read_text()
    assert errors == []


def test_a_live_run_a_late_page_and_a_stopped_run(workspace, browser):
    workspace.iteration("good").iteration("slow", SLOW_MAIN).builtin_metrics()
    workspace.run("run-001").write()
    errors: list[str] = []
    with studio(workspace.root) as server:
        page = open_page(browser, server, errors)
        page.click("#tab-workflow")
        page.click("#start")
        page.wait_for_selector('#items tr[data-state="running"] >> text=slow', timeout=WAIT_MS)
        assert page.inner_text("#holder").startswith("session: run run-001")
        late = open_page(browser, server, errors)  # opened mid-run: it catches up
        late.click("#tab-workflow")
        late.wait_for_selector('#items tr[data-state="running"] >> text=slow')
        assert sorted(states(late)) == sorted(states(page))
        screenshot(page, "workflow")
        (workspace.root / "iterations" / "slow" / "go").write_text("")
        for view in (page, late):
            view.wait_for_function(
                "() => { const rows = document.querySelectorAll('#items tbody tr');"
                " return rows.length === 4 && Array.prototype.every.call(rows,"
                " r => r.dataset.state === 'passed'); }",
                timeout=WAIT_MS,
            )
        page.wait_for_selector("#progress-label >> text=finished (exit status 0)", timeout=WAIT_MS)
        late.close()
        # a second run, stopped while 'slow' waits: what finished is kept
        (workspace.root / "iterations" / "slow" / "go").unlink()
        page.wait_for_selector("#start:not([disabled])", timeout=WAIT_MS)
        page.click("#start")
        page.wait_for_function(
            "() => Array.prototype.some.call(document.querySelectorAll('#items tbody tr'),"
            " r => r.dataset.state === 'running' && r.dataset.nodeid.indexOf('slow') >= 0)"
            " && document.querySelectorAll('#items tr[data-state=\"passed\"]').length === 2",
            timeout=WAIT_MS,
        )
        page.wait_for_selector("#stop:not([disabled])")
        page.click("#stop")
        page.wait_for_selector("#progress-label >> text=finished (exit status 2)", timeout=WAIT_MS)
        assert [s for _, s in states(page)].count("passed") == 2
        page.close()
    records = workspace.results()
    sessions = sorted({r["session_id"] for r in records})
    assert len(sessions) == 2
    assert {
        (r["iteration_id"], r["metric_id"]) for r in records if r["session_id"] == sessions[1]
    } == {
        ("good", "accuracy"),
        ("good", "f1_macro"),
    }
    assert errors == []


def test_the_output_panel_draws_results_charts_code_and_failures(workspace, pytester, browser):
    workspace.iteration("good", GOOD_MAIN, repeats=3)
    workspace.iteration("child", CHILD_MAIN, parent="good")
    workspace.iteration("noisy", NOISY_MAIN, parent="good", repeats=3)
    workspace.builtin_metrics().run("run-001").write()
    for _ in range(2):
        pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    errors: list[str] = []
    with studio(workspace.root) as server:
        page = open_page(browser, server, errors)
        page.click("#tab-output")
        page.wait_for_selector("#results td.cell")
        assert page.locator("svg.metric-chart").count() == 2
        assert page.locator("svg.metric-chart").first.locator("circle").count() == 6  # the repeats
        page.wait_for_selector("svg.pareto-chart circle")
        page.click("#results td.cell >> nth=0")  # good, accuracy
        page.wait_for_selector("svg.history-chart circle >> nth=1")  # two sessions
        page.select_option("#code-iteration", "child")
        page.wait_for_selector("#code .highlight span.k")
        page.wait_for_selector("#diff .highlight span.gi")
        page.click("#results tr:nth-child(3) td.cell >> nth=0")  # child, accuracy
        detail = page.wait_for_selector("#detail pre")
        assert "diverged at epoch 3" in detail.inner_text()
        traceback = page.wait_for_selector("#detail pre.traceback")
        assert "raise ValueError('diverged at epoch 3')" in traceback.inner_text()
        assert page.frame_locator("#report").locator("h1").count() >= 1
        screenshot(page, "output")
        page.close()
    assert errors == []


def test_an_orchestrations_steps_are_listed_and_follow_its_events(workspace, browser):
    from pytest_iterbench.orchestrator.state import Orchestration, StateFile, StepRecord
    from pytest_iterbench.results.events import EventLog, events_path

    workspace.iteration("good").builtin_metrics().run("run-001").write()
    steps = [
        StepRecord("plan", "plan", status="done", attempts=1),
        StepRecord("benchmark:run-001", "benchmark", "run-001"),
    ]
    StateFile(workspace.root).save(
        Orchestration({"kind": "plan", "path": "plan.json"}, "manual", steps=steps)
    )
    errors = []
    row = '#steps tr[data-step="benchmark:run-001"]'
    with studio(workspace.root) as server:
        page = open_page(browser, server, errors)
        page.click("#tab-workflow")
        page.wait_for_selector('#steps tr[data-step="plan"][data-status="done"]')
        page.wait_for_selector(f'{row}[data-status="pending"]')  # from state.json alone
        with EventLog(events_path(workspace.root / ".iterbench" / "events")) as events:
            events.emit(
                "orchestration.start", task={"kind": "plan", "path": "plan.json"}, planner="manual"
            )
            events.emit("step.skip", step="plan", reason="done before, inputs unchanged")
            events.emit(
                "step.start",
                step="benchmark:run-001",
                kind="benchmark",
                target="run-001",
                attempt=1,
            )
            page.wait_for_selector(f'{row}[data-status="running"]')
            assert page.text_content(f"{row} td:nth-child(3)") == "1"
            assert "orchestration" in page.text_content("#holder")  # held by this (outside) process
            page.select_option("#launch-kind", "orchestration")
            assert page.is_visible("#launch-planner")
            assert not page.is_visible("#launch-workers")
            screenshot(page, "workflow-orchestration")
            events.emit("step.finish", step="benchmark:run-001", status="failed", seconds=1.5,
                        cost_usd=0.0, error="item failed: boom", produced=[])  # fmt: skip
            events.emit("orchestration.finish", status="failed", cost_usd=0.0)
        page.wait_for_selector(f'{row}[data-status="failed"]')
        assert "boom" in page.text_content(f"{row} td:nth-child(6)")
        assert "finished: failed" in page.text_content("#orchestration-label")
    assert errors == []
