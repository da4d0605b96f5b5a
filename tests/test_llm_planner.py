"""The planner: description or notebook to plan.json, repair round, modes, apply_plan."""

from __future__ import annotations

import copy
import json
import sys

import pytest

pytest.importorskip("anthropic")

from pytest_iterbench import cli
from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.errors import PlanInvalid, PlannerUnavailable
from pytest_iterbench.llm.fake_api import (
    FakeMessagesApi,
    digits_plan_answer,
    error_status,
    text_answer,
    timeout,
    tool_answer,
)
from pytest_iterbench.llm.plan import Plan, answer_schema, check_plan
from pytest_iterbench.llm.planner import ClaudePlanner, local_planner
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.secrets import ApiKey
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.workspace.loader import Workspace

USAGE = TokenUsage(input_tokens=1_900, output_tokens=1_400, cache_creation_input_tokens=2_600)
DIGITS = "Classify the 8x8 handwritten digits of scikit-learn; compare several approaches."
MAIN = "def run(parameters):\n    return {'y_true': [0, 1], 'y_pred': [0, 1]}\n"


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS", "CLAUDE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-planner-00000000")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ws(tmp_path):
    """A small digits workspace: v1-baseline, four metrics, one run."""
    (tmp_path / "iterations" / "v1_baseline").mkdir(parents=True)
    (tmp_path / "iterations" / "v1_baseline" / "main.py").write_text(MAIN)
    iteration = {
        "id": "v1-baseline",
        "source_path": "iterations/v1_baseline/",
        "entry_point": "main.py",
    }
    metrics = [
        {
            "id": m,
            "higher_is_better": hib,
            "unit": u,
            "class": f"pytest_iterbench.metrics.builtin.{c}",
        }
        for m, hib, u, c in [
            ("accuracy", True, "%", "AccuracyMetric"),
            ("f1_macro", True, "", "F1MacroMetric"),
            ("exec_time", False, "seconds", "ExecutionTimeMetric"),
            ("peak_memory", False, "MB", "PeakMemoryMetric"),
        ]
    ]
    run = {"id": "run-001", "iteration_ids": ["v1-baseline"], "metric_ids": ["accuracy"]}
    for name, key, entries in [
        ("iterations.json", "iterations", [iteration]),
        ("metrics.json", "metrics", metrics),
        ("runs.json", "runs", [run]),
    ]:
        (tmp_path / name).write_text(json.dumps({key: entries}, indent=2))
    return tmp_path


def planner(ws, replies, retries=0):
    api = FakeMessagesApi(replies)
    config = ClientConfig(max_retries=retries, timeout_seconds=5)
    client = ClaudeClient(
        ApiKey("sk-ant-test-planner-00000000"),
        config,
        traces=TraceStore(ws),
        http_client=api.http_client(),
    )
    return ClaudePlanner(client), api


def snapshot(root):
    return {
        p.relative_to(root): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".iterbench" not in p.parts
    }


def test_a_plan_from_a_description(ws):
    planner_, api = planner(ws, [tool_answer("submit_plan", digits_plan_answer(), USAGE)])
    plan = planner_.plan(PlanTask.from_description(DIGITS), ws)
    assert [it["id"] for it in plan.iterations] == [
        "v3-random-forest",
        "v4-svm-rbf",
        "v4-svm-rbf-c1",
        "v5-knn",
    ]
    assert (plan.planner, plan.model, plan.source) == (
        "claude-api",
        "claude-sonnet-5-5",
        {"kind": "description"},
    )
    assert plan.cost["calls"] == 1
    assert plan.cost["cost_usd"] == pytest.approx((1_900 * 2 + 2_600 * 2.5 + 1_400 * 10) / 1e6)
    [request] = api.requests
    assert DIGITS in request["messages"][0]["content"]
    assert '"id": "v1-baseline"' in request["messages"][0]["content"]
    assert "pytest_iterbench.metrics.AccuracyMetric" in request["system"][0]["text"]
    assert request["tools"][0]["input_schema"] == answer_schema()
    assert "tool_choice" not in request  # recent models refuse a forced tool choice


def test_a_json_text_answer_is_accepted_too(ws):
    answer = "```json\n" + json.dumps(digits_plan_answer()) + "\n```"
    planner_, _ = planner(ws, [text_answer(answer, USAGE)])
    assert len(planner_.plan(PlanTask.from_description(DIGITS), ws).runs) == 2


def test_an_invalid_answer_is_repaired_in_one_round(ws):
    broken = copy.deepcopy(digits_plan_answer())
    broken["iterations"][2]["parent"] = "v4-svm"  # unknown
    broken["runs"][0]["metric_ids"].append("roc_auc")  # unknown
    replies = [
        tool_answer("submit_plan", broken, USAGE),
        tool_answer("submit_plan", digits_plan_answer(), USAGE, call_id="toolu_2"),
    ]
    planner_, api = planner(ws, replies)
    plan = planner_.plan(PlanTask.from_description(DIGITS), ws)
    assert plan.iterations[2]["parent"] == "v4-svm-rbf"
    assert plan.cost["calls"] == 2
    assert plan.cost["cost_usd"] == pytest.approx(2 * (1_900 * 2 + 2_600 * 2.5 + 1_400 * 10) / 1e6)
    feedback = api.requests[1]["messages"][-1]["content"][0]
    assert (feedback["type"], feedback["tool_use_id"], feedback["is_error"]) == (
        "tool_result",
        "toolu_fake",
        True,
    )
    assert "iterations[2].parent: unknown iteration 'v4-svm'" in feedback["content"]
    assert "runs[0].metric_ids[5]: unknown metric 'roc_auc'" in feedback["content"]


def test_an_answer_that_never_validates_is_a_clear_failure(ws):
    broken = {
        "iterations": [],
        "metrics": [],
        "runs": [{"id": "r", "iteration_ids": ["nope"], "metric_ids": ["x"]}],
    }
    replies = [tool_answer("submit_plan", broken), text_answer("Sorry, here is prose instead.")]
    planner_, api = planner(ws, replies)
    with pytest.raises(PlanInvalid) as caught:
        planner_.plan(PlanTask.from_description(DIGITS), ws)
    assert caught.value.attempts == 2
    assert "expected a submit_plan tool call or a JSON object, found text 'Sorry" in str(
        caught.value
    )
    assert len(api.requests) == 2


def test_the_cli_writes_a_plan_and_applies_it(ws, capsys):
    api = FakeMessagesApi([tool_answer("submit_plan", digits_plan_answer(), USAGE)])
    status = cli.main(["plan", DIGITS, "--dir", str(ws), "--apply"], http_client=api.http_client())
    out = capsys.readouterr().out
    assert status == 0, out
    assert json.loads((ws / "plan.json").read_text())["planner"] == "claude-api"
    assert "cost: $0.0243 for 1 call(s)" in out
    workspace = Workspace.load(ws)
    assert {"v3-random-forest", "v5-knn"} <= set(workspace.iterations)
    assert "run-003" in workspace.runs
    stub = (ws / "iterations" / "v3_random_forest" / "main.py").read_text()
    assert "NotImplementedError" in stub


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        (
            [error_status(529, "overloaded_error")] * 2,
            "after 2 attempt(s): HTTP 529 overloaded_error",
        ),
        ([error_status(500, "api_error")] * 2, "after 2 attempt(s): HTTP 500 api_error"),
        ([timeout()] * 2, "after 2 attempt(s): timeout: no answer within 120 s"),
    ],
    ids=["529", "500", "timeout"],
)
def test_a_failed_api_call_writes_nothing(ws, capsys, replies, message):
    before = snapshot(ws)
    api = FakeMessagesApi(replies)
    argv = ["plan", DIGITS, "--dir", str(ws), "--max-retries", "1", "--apply"]
    assert cli.main(argv, http_client=api.http_client()) == 1
    assert message in capsys.readouterr().err
    assert snapshot(ws) == before
    [trace] = list(TraceStore(ws).records())
    assert (trace.status, trace.retries) == ("error", 1)


def test_an_invalid_plan_from_the_model_writes_nothing(ws, capsys):
    before = snapshot(ws)
    answers = [tool_answer("submit_plan", {"runs": []}), tool_answer("submit_plan", {"runs": []})]
    status = cli.main(
        ["plan", DIGITS, "--dir", str(ws), "--apply"],
        http_client=FakeMessagesApi(answers).http_client(),
    )
    assert status == 4
    assert (
        "invalid plan from claude-sonnet-5-5 (claude-api) after 2 model answer(s)"
        in capsys.readouterr().err
    )
    assert snapshot(ws) == before


def test_a_notebook_is_planned_from_its_cells(ws):
    notebook = {
        "cells": [
            {
                "cell_type": "markdown",
                "source": ["# Assignment 3: digits\n", "Train two classifiers."],
            },
            {"cell_type": "code", "source": "# YOUR CODE HERE\n"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (ws / "a3.ipynb").write_text(json.dumps(notebook))
    planner_, api = planner(ws, [tool_answer("submit_plan", digits_plan_answer(), USAGE)])
    plan = planner_.plan(PlanTask.from_notebook(ws / "a3.ipynb"), ws)
    assert plan.source == {"kind": "notebook", "path": str(ws / "a3.ipynb")}
    assert plan.description == "assignment notebook a3.ipynb: Assignment 3: digits"
    assert "### cell 2 (code)\n# YOUR CODE HERE" in api.requests[0]["messages"][0]["content"]


def test_manual_mode_checks_and_applies_a_plan_file(ws, capsys):
    document = {
        **digits_plan_answer(),
        "plan_version": 1,
        "description": "by hand",
        "source": {"kind": "manual"},
        "planner": "manual",
        "model": None,
        "created_at": "2026-11-21T10:00:00Z",
    }
    (ws / "plan.json").write_text(json.dumps(document))
    assert cli.main(["plan", "--planner", "manual", "--dir", str(ws), "--apply"]) == 0
    assert "added 4 iterations, 1 metrics, 2 runs" in capsys.readouterr().out
    assert cli.main(["plan", "--planner", "manual", "--dir", str(ws), "--apply"]) == 0  # idempotent
    assert "added 0 iterations, 0 metrics, 0 runs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["iterations"][1].update(parent="v4-svm-rbf-c1"),
            "parent cycle: v4-svm-rbf -> v4-svm-rbf-c1 -> v4-svm-rbf",
        ),
        (
            lambda d: d["iterations"].append(dict(d["iterations"][0])),
            "iterations[4].id: duplicate id 'v3-random-forest'",
        ),
        (
            lambda d: d["iterations"][0].update(source_path="../outside"),
            "expected a folder inside the workspace",
        ),
        (
            lambda d: d["metrics"][0].update({"class": "pytest_iterbench.metrics.Nope"}),
            "cannot import 'pytest_iterbench.metrics.Nope'",
        ),
        (
            lambda d: d["metrics"].append(
                {"id": "accuracy", "higher_is_better": False, "unit": ""}
            ),
            "'accuracy' is already defined in metrics.json with different content",
        ),
        (lambda d: d.update(planner="cursor"), "planner: 'cursor' is not one of"),
    ],
)
def test_a_bad_manual_plan_is_refused_and_changes_nothing(ws, capsys, change, message):
    document = {
        **digits_plan_answer(),
        "plan_version": 1,
        "description": "x",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-11-21T10:00:00Z",
    }
    change(document)
    (ws / "plan.json").write_text(json.dumps(document))
    before = snapshot(ws)
    assert cli.main(["plan", "--planner", "manual", "--dir", str(ws), "--apply"]) == 4
    assert message in capsys.readouterr().err
    assert snapshot(ws) == before


def manual_plan_document():
    return {
        **digits_plan_answer(),
        "plan_version": 1,
        "description": "x",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-11-21T10:00:00Z",
    }


def test_a_plan_whose_folder_cannot_be_scaffolded_is_refused_by_the_checker(ws):
    """The checker applies the loader's source rule: only a .py entry point gets a stub."""
    document = manual_plan_document()
    document["iterations"][0]["entry_point"] = "main.ipynb"
    with pytest.raises(PlanInvalid) as caught:
        check_plan(document, ws)
    assert [str(problem) for problem in caught.value.problems] == [
        "plan.json: iterations[0].source_path: folder not found: 'iterations/v3_random_forest/'"
        f" (resolved to {ws / 'iterations' / 'v3_random_forest'}); applying a plan creates a"
        " stub only for a .py entry point"
    ]


def test_apply_plan_restores_the_workspace_when_the_final_check_fails(ws, monkeypatch):
    """The checker and the loader share their rules, so only a workspace changed between them
    fails the final check: simulated here by a load that fails."""
    plan = check_plan(manual_plan_document(), ws)
    before = snapshot(ws)

    def changed_meanwhile(root):
        raise WorkspaceError([Problem("runs.json", "runs", "changed meanwhile")])

    monkeypatch.setattr(Workspace, "load", changed_meanwhile)
    with pytest.raises(WorkspaceError, match="changed meanwhile"):
        apply_plan(plan, ws)
    assert snapshot(ws) == before
    assert not (ws / "iterations" / "v3_random_forest").exists()
    assert not (ws / "iterations" / "v4_svm_rbf").exists()


def test_a_local_mode_without_a_registered_planner_is_unavailable(ws):
    with pytest.raises(PlannerUnavailable, match="'kernel' is not available: no local planner"):
        local_planner("kernel", {}, ws, True)


def test_the_seeds_flags(ws, capsys):
    api = FakeMessagesApi([tool_answer("submit_plan", digits_plan_answer(), USAGE)])
    argv = [
        "plan",
        DIGITS,
        "--claude-api",
        "--claude-api-key",
        "sk-ant-from-argv-0000",
        "--dir",
        str(ws),
        "-o",
        "out/p.json",
    ]
    assert cli.main(argv, http_client=api.http_client()) == 0
    assert "shell history" in capsys.readouterr().err
    assert api.headers[0]["authorization"] == "Bearer sk-ant-from-argv-0000"
    assert Plan.from_json(json.loads((ws / "out" / "p.json").read_text())).planner == "claude-api"
    assert cli.main(["plan", DIGITS, "--claude-api", "--planner", "manual"]) == 1
    assert "contradicts" in capsys.readouterr().err


def test_the_answer_schema_is_self_contained():
    assert "$ref" not in json.dumps(answer_schema())
    iteration = answer_schema()["properties"]["iterations"]["items"]
    assert iteration["properties"]["id"]["pattern"].startswith("^[A-Za-z0-9]")


def test_without_the_llm_extra_the_planner_says_what_to_install(ws, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pytest_iterbench.llm.client", None)
    assert cli.main(["plan", DIGITS, "--dir", str(ws)]) == 1
    assert "needs the llm extra" in capsys.readouterr().err
