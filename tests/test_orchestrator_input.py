"""Bad input to the orchestrator, and a push that fails: clear messages, nothing lost or overwritten."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pytest_iterbench.cli import main
from tests.orchestrator_helpers import manual_workspace, state


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_an_invalid_plan_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0]})
    plan = json.loads((root / "plan.json").read_text())
    del plan["runs"][0]["metric_ids"]
    (root / "plan.json").write_text(json.dumps(plan))
    before = _files(root)
    assert main(["orchestrate", "--dir", str(root)]) == 4
    assert "plan.json: runs[0]: 'metric_ids' is a required property" in capsys.readouterr().err
    assert _files(root) == before


@pytest.mark.parametrize("class_path", ["my_metrics.NoSuchMetric", "metrics.rates.NoSuchMetric"])
def test_a_plan_naming_an_unknown_metric_class_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], class_path: str
) -> None:
    """The manual planner writes no metric class, not even in metrics/ (a model's plan may)."""
    root = manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0]})
    plan = json.loads((root / "plan.json").read_text())
    plan["metrics"][0]["class"] = class_path
    (root / "plan.json").write_text(json.dumps(plan))
    before = _files(root)
    assert main(["orchestrate", "--dir", str(root)]) == 4
    err = capsys.readouterr().err
    assert "metrics[0].class" in err
    assert f"cannot import {class_path!r}" in err
    assert _files(root) == before


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"orchestration": {"steps": [', "line 1"),
        (
            '{"orchestration": {"state_version": 1, "steps": []}}',
            "orchestration: 'task' is a required property",
        ),
        ('{"orchestration": 3}', "orchestration"),
    ],
)
def test_a_corrupt_state_file_stops_everything_and_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, found: str
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0]})
    (root / "state.json").write_text(text)
    before = _files(root)
    assert main(["orchestrate", "--dir", str(root), "--resume"]) == 4
    err = capsys.readouterr().err
    assert "state.json: expected a state file matching schemas/state-schema.json" in err
    assert found in err
    assert "Nothing was changed" in err
    assert _files(root) == before
    assert main(["status", "--dir", str(root)]) == 4
    assert (root / "state.json").read_text() == text


def test_claude_api_without_a_key_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "ws"
    root.mkdir()
    assert main(["orchestrate", "compare two models", "--dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY" in err
    assert list(root.iterdir()) == []


def test_another_task_in_the_state_file_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": None})
    assert main(["orchestrate", "--dir", str(root)]) == 1  # implement:v1 has no code
    text = (root / "state.json").read_text()
    (root / "other.json").write_text((root / "plan.json").read_text())
    assert main(["orchestrate", "--dir", str(root), "--plan", str(root / "other.json")]) == 1
    assert "holds another orchestration" in capsys.readouterr().err
    assert (root / "state.json").read_text() == text


def test_a_failed_push_is_recorded_and_retried_at_the_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, remote = (
        manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0], "v2": None}),
        tmp_path / "remote.git",
    )
    assert (
        main(["orchestrate", "--dir", str(root), "--git-push", str(remote)]) == 1
    )  # no remote yet
    git = state(root)["orchestration"]["git"]
    assert git["push_pending"] is True
    assert git["push_failures"] == 3
    assert "remote.git" in git["last_push_error"]
    local = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True
    )
    assert len(local.stdout.splitlines()) == 3  # the commits stayed local
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    # The next step (implement:v2 fails again: still no code) pushes everything.
    assert main(["orchestrate", "--dir", str(root), "--git-push", str(remote)]) == 1
    assert state(root)["orchestration"]["git"]["push_pending"] is False, "the retry pushed"
    pushed = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%s"], capture_output=True, text=True
    )
    assert pushed.stdout.splitlines() == [
        "iterbench: implement:v2 failed",
        "iterbench: implement:v2 failed",
        "iterbench: implement:v1 done",
        "iterbench: plan done",
    ], "the three local commits and the new one"


def test_the_notebook_processors_part_of_state_json_is_kept(tmp_path: Path) -> None:
    from pytest_iterbench.notebook.state import NotebookProgress, StateStore

    root = manual_workspace(tmp_path / "ws", {"v1": None})
    sha = "a" * 64
    StateStore(root).save(NotebookProgress(sha, "hw1.ipynb", "input/hw1.ipynb", "work/hw1"))
    assert main(["orchestrate", "--dir", str(root)]) == 1  # implement:v1 has no code
    data = state(root)
    assert data["notebooks"][sha]["name"] == "hw1.ipynb"
    assert data["orchestration"]["steps"][1]["status"] == "failed"
    progress = StateStore(root).load(sha)
    assert progress is not None
    assert progress.work == "work/hw1"


def test_negative_workers_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": [0, 1, 0, 0]})
    before = _files(root)
    assert main(["orchestrate", "--dir", str(root), "--workers", "-1"]) == 1
    assert "--workers: expected 0 or more, found -1" in capsys.readouterr().err
    assert _files(root) == before


def test_the_benchmark_step_runs_its_pytest_on_the_workers_asked(tmp_path: Path) -> None:
    from pytest_iterbench.orchestrator.benchmark import PytestRun

    serial = PytestRun(tmp_path, "run-001", "s1").command()
    assert "-n" not in serial
    parallel = PytestRun(tmp_path, "run-001", "s1", workers=2).command()
    assert parallel[parallel.index("-n") + 1] == "2"
    assert parallel[: len(serial)] == serial


def test_without_a_code_writer_a_stub_entry_point_is_a_message_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = manual_workspace(tmp_path / "ws", {"v1": None})
    assert main(["orchestrate", "--dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert "iterations/v1/main.py: expected the iteration's code, found a stub or nothing" in err
    assert "write it by hand, then --resume" in err
    assert state(root)["orchestration"]["steps"][0]["status"] == "done"  # the plan step stands
