"""The orchestrator with a scripted model (no network): plan, implement, review, narrative."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx2
import pytest

from pytest_iterbench.cli import main
from pytest_iterbench.llm.fake_api import FakeMessagesApi, Reply, tool_answer
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.orchestrator.narrative import check_sentences, numbers_in
from tests.orchestrator_helpers import results, steps

TASK = "compare logistic regression and a small MLP on digits"

LOGREG = """
import os
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def run(parameters):
    X, y = load_digits(return_X_y=True)
    if os.environ.get("ITERBENCH_SMOKE"):
        X, y = X[:400], y[:400]
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=parameters["seed"])
    model = LogisticRegression(max_iter=parameters["max_iter"]).fit(X_train, y_train)
    return {"y_true": y_test.tolist(), "y_pred": model.predict(X_test).tolist()}
"""

MLP_BODY = """
import os
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def run(parameters):
    X, y = load_digits(return_X_y=True)
    if os.environ.get("ITERBENCH_SMOKE"):
        X, y = X[:400], y[:400]
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=parameters["seed"])
    model = MLPClassifier(hidden_layer_sizes=(parameters["hidden"],), max_iter=parameters["max_iter"],
                          random_state=parameters["seed"]).fit(X_train, y_train)
"""
MLP_BROKEN = MLP_BODY + '    return {"predictions": model.predict(X_test).tolist()}\n'
MLP_FIXED = (
    MLP_BODY + '    return {"y_true": y_test.tolist(), "y_pred": model.predict(X_test).tolist()}\n'
)


def _iteration(iteration_id: str, approach: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": iteration_id, "name": iteration_id, "description": approach, "approach": approach,
        "source_path": f"iterations/{iteration_id}/", "entry_point": "main.py",
        "parameters": {**parameters, "seed": 0}, "parent": None, "tags": [approach],
    }  # fmt: skip


def plan_answer() -> dict[str, Any]:
    return {
        "rationale": "A linear baseline against a small neural network.",
        "iterations": [
            _iteration("v1-logreg", "linear", {"max_iter": 200}),
            _iteration("v2-mlp", "neural-network", {"hidden": 32, "max_iter": 60}),
        ],
        "metrics": [
            {"id": "accuracy", "name": "Accuracy", "class": "pytest_iterbench.metrics.AccuracyMetric",
             "higher_is_better": True, "unit": "%", "type": "ml_quality"},
            {"id": "f1_macro", "name": "F1 macro", "class": "pytest_iterbench.metrics.F1MacroMetric",
             "higher_is_better": True, "unit": ""},
        ],
        "runs": [{"id": "run-001", "name": "Linear vs MLP", "iteration_ids": ["v1-logreg", "v2-mlp"],
                  "metric_ids": ["accuracy", "f1_macro"]}],
    }  # fmt: skip


def narrative_from_results(root: Path) -> Reply:
    """The narrator's answer, written at call time from the results: one true number, one invented."""

    def reply(request: httpx2.Request, body: dict[str, Any]) -> httpx2.Response:
        accuracy = {
            r["iteration_id"]: r["value"] for r in results(root) if r["metric_id"] == "accuracy"
        }
        best = max(accuracy, key=lambda k: accuracy[k])
        sentences = [
            f"{best} wins with an accuracy of {accuracy[best]:.1f} %.",
            "It also trains 12.345 times faster.",
        ]
        return tool_answer("submit_narrative", {"sentences": sentences})(request, body)

    return reply


def review_answer(code: str) -> Reply:
    fix = {
        "kind": "code",
        "target": "v2-mlp",
        "code": code,
        "explanation": "return y_true and y_pred",
    }
    return tool_answer(
        "submit_review", {"diagnosis": "the outputs lack y_true and y_pred", "fix": fix}
    )


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS", "CLAUDE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-orchestrator-0000")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.slow
def test_digits_end_to_end_with_a_scripted_model(
    tmp_path: Path, key: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # tiny models: BLAS threads only contend on a busy machine
    root, remote = tmp_path / "ws", tmp_path / "remote.git"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    api = FakeMessagesApi([
        tool_answer("submit_plan", plan_answer()),
        tool_answer("submit_iteration_code", {"code": LOGREG}),
        tool_answer("submit_iteration_code", {"code": MLP_BROKEN}),
        review_answer(MLP_FIXED),
        narrative_from_results(root),
    ])  # fmt: skip
    argv = [
        "orchestrate",
        TASK,
        "--planner",
        "claude-api",
        "--dir",
        str(root),
        "--git-push",
        str(remote),
    ]
    status = main(argv, http_client=api.http_client())
    out = capsys.readouterr()
    assert status == 0, out.err
    recorded = steps(root)
    assert recorded["implement:v2-mlp"]["outputs"]["attempts"] == 2  # broken, then the review's fix
    assert recorded["implement:v1-logreg"]["outputs"]["attempts"] == 1
    assert (root / "iterations" / "v2-mlp" / "main.py").read_text() == MLP_FIXED
    assert {(r["iteration_id"], r["status"]) for r in results(root)} == {
        ("v1-logreg", "passed"), ("v2-mlp", "passed"),
    }  # fmt: skip
    report = (root / "reports" / "comparison_report.md").read_text()
    assert "## What won and why" in report
    assert "wins with an accuracy of" in report
    assert "12.345" not in report
    assert "1 sentence(s) of the model's narrative were dropped" in report
    assert recorded["report:run-001"]["outputs"]["narrative"]["dropped"] == [
        "It also trains 12.345 times faster."
    ]
    assert sum(r["cost_usd"] for r in recorded.values()) > 0
    assert "cost so far $0.0" in out.out
    # Every call was traced, by role.
    roles = [t.role for t in TraceStore(root).records()]
    assert roles == ["planner", "solver", "solver", "reviewer", "reviewer"]
    # One commit per step, all pushed to the bare remote; no trace, key or cache in them.
    log = _git(remote, "log", "--all", "--format=%s").splitlines()
    assert len(log) == len(recorded)
    assert log[-1] == "iterbench: plan done"
    head = _git(remote, "rev-parse", "--all").split()[0]
    files = _git(remote, "ls-tree", "-r", "--name-only", head).split()
    assert "results.json" in files
    assert "iterations/v2-mlp/main.py" in files
    assert not [f for f in files if f.startswith(".iterbench") or f.endswith(".env")]
    assert (
        json.loads((root / "state.json").read_text())["orchestration"]["git"]["push_pending"]
        is False
    )


def test_numbers_in_names_are_not_numbers() -> None:
    assert numbers_in("v1-baseline on run-001 reaches 97.5 % after 3 epochs") == ["97.5", "3"]
    assert check_sentences(["A: 0.98.", "B: 98 %.", "C: 98.1 %."], [0.9812]) == (
        ["A: 0.98.", "B: 98 %.", "C: 98.1 %."],
        [],
    )
    assert check_sentences(["It is 2 times faster."], [0.5, 97.0]) == (
        [],
        ["It is 2 times faster."],
    )


FAILS_OUTSIDE_SMOKE = """
import os


def run(parameters):
    if not os.environ.get("ITERBENCH_SMOKE"):
        raise ValueError("boom: the full data set has a label the smoke subset lacks")
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 1, 0]}
"""
TOY = """
def run(parameters):
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0]}
"""


def toy_plan_answer() -> dict[str, Any]:
    answer = plan_answer()
    answer["iterations"] = [_iteration("v1-toy", "toy", {}), _iteration("v2-toy", "toy", {})]
    answer["runs"][0]["iteration_ids"] = ["v1-toy", "v2-toy"]
    return answer


METRIC_HEAD = """
from pytest_iterbench.metrics import BaseMetric, MetricResult


class PositiveRate(BaseMetric):
    def measure(self, iteration_path, entry_point, parameters):
        raise NotImplementedError("reads the outputs")

    def measure_execution(self, execution):
        predictions = execution.outputs["y_pred"]
"""
METRIC_BROKEN = METRIC_HEAD + "        return sum(predictions) / len(predictions)\n"
METRIC_FIXED = METRIC_HEAD + (
    "        return MetricResult(self.metric_id, sum(predictions) / len(predictions), self.unit)\n"
)


def test_the_review_fixes_a_metric_class_and_an_iteration_that_fails_in_the_benchmark(
    tmp_path: Path, key: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """One orchestration: the model writes a metric class the plan needs (D4), whose first
    version fails its check and is fixed; an iteration passes its smoke check but fails in
    the benchmark, is fixed by the review and only it runs again."""
    root = tmp_path / "ws"
    root.mkdir()
    plan = toy_plan_answer()
    plan["metrics"].append({"id": "positive_rate", "name": "Positive rate",
                            "class": "metrics.positive_rate.PositiveRate",
                            "higher_is_better": False, "unit": ""})  # fmt: skip
    plan["runs"][0]["metric_ids"].append("positive_rate")
    metric_fix = {"kind": "code", "target": "positive_rate", "code": METRIC_FIXED,
                  "explanation": "return a MetricResult"}  # fmt: skip
    fix = {"kind": "code", "target": "v2-toy", "code": TOY, "explanation": "no special case"}
    api = FakeMessagesApi([
        tool_answer("submit_plan", plan),
        tool_answer("submit_iteration_code", {"code": TOY}),
        tool_answer("submit_iteration_code", {"code": FAILS_OUTSIDE_SMOKE}),
        tool_answer("submit_metric_class", {"code": METRIC_BROKEN}),
        tool_answer("submit_review", {"diagnosis": "returns a float", "fix": metric_fix}),
        tool_answer("submit_review", {"diagnosis": "raises on the full data", "fix": fix}),
        tool_answer("submit_narrative", {"sentences": ["v1-toy and v2-toy both reach 75.0 %."]}),
    ])  # fmt: skip
    status = main(["orchestrate", "toy task", "--dir", str(root)], http_client=api.http_client())
    assert status == 0, capsys.readouterr().err
    assert list(steps(root))[:5] == [
        "plan", "implement:v1-toy", "implement:v2-toy", "metric:positive_rate", "benchmark:run-001",
    ]  # fmt: skip
    # The metric class: written, checked on the smoke execution, fixed, then measured in the run.
    metric = steps(root)["metric:positive_rate"]
    assert metric["outputs"]["attempts"] == 2, "the first class failed its check, the fix passed"
    assert "metrics/positive_rate.py" in metric["produced"]
    assert (root / "metrics" / "positive_rate.py").read_text() == METRIC_FIXED
    metric_prompt = json.dumps(api.requests[4]["messages"])
    assert "expected measure_execution() to return a MetricResult, found 0.25" in metric_prompt
    rates = {
        (r["iteration_id"], r["status"], r["value"])
        for r in results(root)
        if r["metric_id"] == "positive_rate"
    }
    assert rates == {("v1-toy", "passed", 0.25), ("v2-toy", "error", None),
                     ("v2-toy", "passed", 0.25)}, "measured by the model's class"  # fmt: skip
    # The iteration that failed in the benchmark.
    review = steps(root)["review:run-001"]
    assert review["status"] == "done"
    assert review["outputs"]["iterations"]["v2-toy"]["fixed"] is True
    [rerun] = review["outputs"]["sessions"]
    benchmark = steps(root)["benchmark:run-001"]["outputs"]
    assert {f["iteration_id"] for f in benchmark["failed"]} == {"v2-toy"}
    by_session = {(r["session_id"], r["iteration_id"], r["status"]) for r in results(root)}
    assert by_session == {
        (benchmark["session_id"], "v1-toy", "passed"), (benchmark["session_id"], "v2-toy", "error"),
        (rerun, "v2-toy", "passed"),
    }  # fmt: skip
    reviewer_prompt = json.dumps(api.requests[5]["messages"])
    assert "boom: the full data set" in reviewer_prompt
    report = (root / "reports" / "comparison_report.md").read_text()
    assert "v1-toy and v2-toy both reach 75.0 %." in report
    assert "dropped" not in report
