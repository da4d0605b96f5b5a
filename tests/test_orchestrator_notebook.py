"""A notebook task: the orchestrator drives the notebook processor's own steps, resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_iterbench.cli import main
from tests.notebook_helpers import assignment, snippets, solutions_folder
from tests.orchestrator_helpers import state, steps

STYLE = ("solution-markers",)
NOTEBOOK_STEPS = [
    f"notebook:{s}" for s in ("parse", "solve", "build", "validate", "export", "archive")
]


def test_a_notebook_goes_through_the_processors_steps_and_a_fix_resumes_at_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    notebook = assignment(STYLE).write(root / "input" / "hw1.ipynb")
    original = notebook.read_bytes()
    solutions_folder(root / "solutions", STYLE, wrong=STYLE)
    argv = ["orchestrate", "--notebook", str(notebook), "--planner", "manual", "--dir", str(root)]

    assert main(argv) == 1, "the wrong solution fails its check"
    err = capsys.readouterr().err
    assert "step notebook:validate failed" in err, err
    assert "cube" in err, "the failure names the exercise"
    recorded = steps(root)
    assert recorded["plan"]["status"] == "skipped"
    assert [s for s in recorded if s.startswith("notebook:")] == NOTEBOOK_STEPS
    assert recorded["notebook:validate"]["status"] == "failed"
    assert recorded["notebook:export"]["status"] == "pending"

    (root / "solutions" / "cube.py").write_text(snippets()["solution-markers"].right + "\n")
    assert main(argv) == 0, capsys.readouterr().err
    recorded = steps(root)
    attempts = {s: recorded[s]["attempts"] for s in NOTEBOOK_STEPS}
    assert attempts == {
        "notebook:parse": 1, "notebook:solve": 2, "notebook:build": 2, "notebook:validate": 2,
        "notebook:export": 1, "notebook:archive": 1,
    }, "a failed validation solves again (the processor's rule); parse is not redone"  # fmt: skip
    assert all(recorded[s]["status"] == "done" for s in NOTEBOOK_STEPS)
    assert "output/hw1_completed.ipynb" in recorded["notebook:export"]["produced"]
    assert recorded["notebook:archive"]["produced"] == {
        "done/hw1.ipynb": recorded["notebook:archive"]["produced"]["done/hw1.ipynb"]
    }
    completed = json.loads((root / "output" / "hw1_completed.ipynb").read_text())
    assert any("return x ** 3" in "".join(c["source"]) for c in completed["cells"])
    assert (root / "done" / "hw1.ipynb").read_bytes() == original
    assert not notebook.exists(), "archived"
    [progress] = state(root)["notebooks"].values()
    assert progress["status"] == "done"

    capsys.readouterr()
    assert main(["orchestrate", "--resume", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "notebook:archive: already done" in out
    assert {s: r["attempts"] for s, r in steps(root).items() if s in attempts} == attempts
