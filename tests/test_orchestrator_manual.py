"""The orchestrator with the manual planner: a hand-written plan and code, no model at all."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_iterbench.cli import main
from tests.orchestrator_helpers import (
    COUNTER_VARIABLE,
    TOY_METRICS,
    iteration_code,
    manual_workspace,
    measured,
    results,
    state,
    steps,
)

STEP_IDS = [
    "plan", "implement:v1", "implement:v2", "benchmark:run-001", "review:run-001",
    "report:run-001", "persist",
]  # fmt: skip
CODE: dict[str, list[int] | None] = {"v1": [0, 1, 0, 0], "v2": [0, 1, 1, 0]}


@pytest.fixture
def counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "executions.txt"
    monkeypatch.setenv(COUNTER_VARIABLE, str(path))
    return path


def _executions(counter: Path) -> list[str]:
    return sorted(counter.read_text().splitlines()) if counter.exists() else []


def _commits(root: Path) -> list[str]:
    log = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True, check=True
    )
    return log.stdout.splitlines()[::-1]


@dataclass(frozen=True)
class Finished:
    """One uninterrupted manual orchestration (with --git), shared by the module's tests."""

    root: Path
    counter: Path
    out: str


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    folder = tmp_path_factory.mktemp("finished")
    root, counter = manual_workspace(folder / "ws", CODE), folder / "executions.txt"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.setenv(COUNTER_VARIABLE, str(counter))
        assert main(["orchestrate", "--dir", str(root), "--git"]) == 0, out.getvalue()
    return Finished(root, counter, out.getvalue())


def _copy(finished: Finished, tmp_path: Path) -> Path:
    """A copy of the finished workspace (what a clone holds, plus its caches), to change."""
    return Path(shutil.copytree(finished.root, tmp_path / "ws"))


def test_manual_orchestration_runs_end_to_end_and_resumes_without_redoing(
    finished: Finished, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, counter, out = finished.root, finished.counter, finished.out
    monkeypatch.setenv(COUNTER_VARIABLE, str(counter))
    assert "[4/7] benchmark:run-001: running (attempt 1)" in out
    assert "cost so far $0.0000" in out
    recorded = steps(root)
    assert list(recorded) == STEP_IDS
    assert {s: r["status"] for s, r in recorded.items()} == {
        **dict.fromkeys(STEP_IDS, "done"), "review:run-001": "skipped",
    }  # fmt: skip
    assert recorded["implement:v2"]["produced"] == {
        "iterations/v2/main.py": recorded["implement:v2"]["produced"]["iterations/v2/main.py"]
    }
    assert measured(root) == [
        ("v1", "accuracy", "passed", 75.0), ("v1", "f1_macro", "passed", pytest.approx(0.7333, abs=1e-3)),
        ("v2", "accuracy", "passed", 100.0), ("v2", "f1_macro", "passed", 1.0),
    ]  # fmt: skip
    assert "| v2" in (root / "reports" / "comparison_report.md").read_text()
    assert _executions(counter) == ["v1 run", "v1 smoke", "v2 run", "v2 smoke"]
    assert _commits(root) == [f"iterbench: {s} {recorded[s]['status']}" for s in STEP_IDS]
    tracked = subprocess.run(
        ["git", "-C", str(root), "ls-files"], capture_output=True, text=True
    ).stdout
    assert "results.json" in tracked
    assert ".iterbench" not in tracked
    assert str(root.parent) not in (root / "state.json").read_text()  # no absolute path

    before = results(root)
    assert main(["orchestrate", "--dir", str(root), "--git", "--resume"]) == 0
    assert all(r["attempts"] == 1 for r in steps(root).values())
    assert results(root) == before
    assert _executions(counter) == [
        "v1 run",
        "v1 smoke",
        "v2 run",
        "v2 smoke",
    ]
    assert len(_commits(root)) == len(STEP_IDS)


def test_a_hand_edited_iteration_reruns_the_steps_that_depend_on_it(
    finished: Finished, tmp_path: Path, counter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(finished, tmp_path)
    (root / "iterations" / "v1" / "main.py").write_text(iteration_code([0, 1, 1, 1]))
    assert main(["orchestrate", "--dir", str(root)]) == 0
    attempts = {s: r["attempts"] for s, r in steps(root).items()}
    assert attempts == {
        "plan": 1, "implement:v1": 1, "implement:v2": 1, "benchmark:run-001": 2,
        "review:run-001": 2, "report:run-001": 2, "persist": 2,
    }  # fmt: skip
    sessions = {r["session_id"] for r in results(root)}
    assert len(sessions) == 2
    assert _executions(counter) == ["v1 run", "v2 run"], "the run again, no smoke check again"
    assert ("v1", "accuracy", "passed", 75.0) in measured(root)  # the new code's accuracy
    status = capsys.readouterr()
    assert status.err == ""


def test_a_changed_plan_entry_reruns_its_iteration_only(
    finished: Finished, tmp_path: Path, counter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(finished, tmp_path)
    plan = json.loads((root / "plan.json").read_text())
    plan["iterations"].append(dict(plan["iterations"][1], id="v3", source_path="iterations/v2/",
                                   parameters={"name": "v3"}))  # fmt: skip
    plan["runs"][0]["iteration_ids"].append("v3")
    (root / "plan.json").write_text(json.dumps(plan))
    # run-001 changed: the plan checker refuses a changed entry under the same id
    assert main(["orchestrate", "--dir", str(root)]) == 1
    assert "runs[0].id: id 'run-001' is already defined in runs.json with different content" in (
        capsys.readouterr().err
    )
    assert steps(root)["plan"]["status"] == "failed"
    plan["runs"].append(dict(plan["runs"][0], id="run-002", iteration_ids=["v2", "v3"]))
    plan["runs"][0]["iteration_ids"].remove("v3")
    (root / "plan.json").write_text(json.dumps(plan))
    assert main(["orchestrate", "--dir", str(root)]) == 0
    attempts = {s: r["attempts"] for s, r in steps(root).items()}
    assert attempts["plan"] == 3  # done, failed (refused), done
    assert attempts["implement:v3"] == 1
    assert (
        attempts["implement:v1"] == attempts["implement:v2"] == attempts["benchmark:run-001"] == 1
    )
    assert attempts["benchmark:run-002"] == 1
    assert _executions(counter) == ["v2 run", "v3 run", "v3 smoke"], "only run-002 ran, v1 did not"


def test_status_reports_steps_attempts_and_failures(
    tmp_path: Path, counter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0], "v2": None})
    assert main(["orchestrate", "--dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert "step implement:v2 failed: iterations/v2/main.py: expected the iteration's code" in err
    assert main(["status", "--dir", str(root)]) == 0
    table = capsys.readouterr().out
    assert "implement:v2       failed   1" in table
    assert "next step: implement:v2" in table
    assert main(["status", "--dir", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["failed"][0]["step"] == "implement:v2"
    assert data["summary"]["counts"] == {"done": 2, "failed": 1, "pending": 4}
    assert state(root)["orchestration"]["steps"][2]["status"] == "failed"


def test_a_hand_edited_metric_module_reruns_the_benchmark(tmp_path: Path, counter: Path) -> None:
    """A metric class in the workspace's ``metrics/`` package: its code is one of the run's inputs."""
    root = manual_workspace(tmp_path / "ws", CODE)
    (root / "toy_metrics.py").unlink()
    package = root / "metrics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "toy.py").write_text(TOY_METRICS)
    plan = json.loads((root / "plan.json").read_text())
    for entry, cls in zip(
        plan["metrics"], ("metrics.toy.Accuracy", "metrics.toy.F1Macro"), strict=True
    ):
        entry["class"] = cls
    (root / "plan.json").write_text(json.dumps(plan))
    assert main(["orchestrate", "--dir", str(root)]) == 0
    assert ("v1", "accuracy", "passed", 75.0) in measured(root)
    assert main(["orchestrate", "--dir", str(root), "--resume"]) == 0
    assert steps(root)["benchmark:run-001"]["attempts"] == 1, "nothing changed: nothing reruns"

    # a fix in a helper the metric module imports counts too: the whole package is hashed
    (package / "scale.py").write_text("FACTOR = 0.5\n")
    edited = TOY_METRICS.replace(
        "        return sum(a == b",
        "        from metrics.scale import FACTOR\n        return FACTOR * sum(a == b",
    )
    (package / "toy.py").write_text(edited)
    assert main(["orchestrate", "--dir", str(root), "--resume"]) == 0
    assert steps(root)["benchmark:run-001"]["attempts"] == 2
    latest = max(r["session_id"] for r in results(root))
    accuracy = {
        r["iteration_id"]: r["value"]
        for r in results(root)
        if r["session_id"] == latest and r["metric_id"] == "accuracy"
    }
    assert accuracy == {"v1": 37.5, "v2": 50.0}, "the edited metric measured the run again"
