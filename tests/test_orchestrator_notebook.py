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


def test_claude_api_notebook_steps_count_their_model_calls_in_the_orchestrations_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook steps send through the orchestration's metered sender: their cost is summed.

    ``iterbench orchestrate --notebook --planner claude-api`` also plans and
    benchmarks the notebook's ML task; here the notebook steps run alone,
    through the runner that records each step's cost.
    """
    pytest.importorskip("anthropic")
    from pytest_iterbench.llm.client import ClaudeClient
    from pytest_iterbench.llm.config import ClientConfig
    from pytest_iterbench.llm.fake_api import FakeMessagesApi, tool_answer
    from pytest_iterbench.llm.pricing import TokenUsage
    from pytest_iterbench.llm.secrets import ApiKey
    from pytest_iterbench.llm.solver import CostMeter
    from pytest_iterbench.llm.traces import TraceStore
    from pytest_iterbench.orchestrator.notebook_steps import NotebookSteps
    from pytest_iterbench.orchestrator.state import Orchestration
    from pytest_iterbench.orchestrator.steps import StepRunner
    from pytest_iterbench.results.events import EventLog

    for name in ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # only the fake transport can answer
    root = tmp_path / "ws"
    notebook = assignment(STYLE).write(root / "input" / "hw1.ipynb")
    wrong, right = snippets()["solution-markers"].wrong, snippets()["solution-markers"].right
    review = {
        "diagnosis": "the cube is wrong",
        "fix": {"kind": "code", "code": right, "explanation": "cube it"},
    }
    api = FakeMessagesApi(
        [
            tool_answer("submit_solution", {"solutions": [{"name": "a", "regions": [wrong]}]},
                        TokenUsage(input_tokens=1_000, output_tokens=100)),
            tool_answer("submit_review", review, TokenUsage(input_tokens=2_000, output_tokens=200)),
            tool_answer("submit_solution", {"solutions": [{"name": "b", "regions": [right]}]},
                        TokenUsage(input_tokens=3_000, output_tokens=300)),
        ]
    )  # fmt: skip
    client = ClaudeClient(
        ApiKey("sk-ant-api03-CANARY-ORCHESTRATED"), ClientConfig(),
        traces=TraceStore(root), http_client=api.http_client(),
    )  # fmt: skip
    meter = CostMeter(client)
    relative = str(notebook.relative_to(root))
    orchestration = Orchestration(task={"kind": "notebook", "path": relative}, planner="claude-api")
    with EventLog(root / "events.jsonl") as events:
        runner = StepRunner(
            root, orchestration, events, say=lambda _: None, cost=lambda: meter.totals.cost_usd
        )
        runner.run(NotebookSteps(root, relative, "claude-api", meter).steps())
    recorded = {s.id: s for s in orchestration.steps}
    assert [recorded[s].status for s in NOTEBOOK_STEPS] == ["done"] * len(NOTEBOOK_STEPS)
    assert len(api.requests) == 3, "a wrong solution, a review, the right solution"
    traced = sum(r.cost_usd for r in TraceStore(root).records())
    assert traced > 0
    assert meter.totals.cost_usd == pytest.approx(traced)
    spent = {s: recorded[s].cost_usd for s in NOTEBOOK_STEPS if recorded[s].cost_usd}
    assert set(spent) == {"notebook:solve", "notebook:validate"}, spent
    assert orchestration.cost_usd == pytest.approx(traced)
