"""The kernel's pure parts: compact plans, their grammar, the expander, the score, the data set."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_helpers import planner_trace

from pytest_iterbench.kernel.baseline import baseline_compact, guess_kind
from pytest_iterbench.kernel.catalogue import (
    APPROACHES,
    COST_METRICS,
    KINDS,
    QUALITY_METRICS,
    REPEATS,
)
from pytest_iterbench.kernel.compact import CompactPlan, CompactPlanError, parse_compact
from pytest_iterbench.kernel.dataset import split, synthetic_examples, trace_examples
from pytest_iterbench.kernel.expander import Stamp, expand
from pytest_iterbench.kernel.prompt import task_text
from pytest_iterbench.kernel.score import sullivan_score
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.fake_api import digits_plan_answer
from pytest_iterbench.llm.plan import Existing, plan_problems
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceRecord
from pytest_iterbench.workspace.loader import Workspace

STAMP = Stamp("kernel", "test-model", "2026-11-30T12:00:00Z")


def _subset(draw, names):
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    return tuple(sorted(chosen, key=names.index))


@st.composite
def compact_plans(draw):
    kind = draw(st.sampled_from(KINDS))
    quality = [m.id for m in QUALITY_METRICS[kind]]
    first = draw(st.sampled_from(quality))
    rest = [m for m in quality[quality.index(first) + 1 :]] + [m.id for m in COST_METRICS]
    more = draw(st.lists(st.sampled_from(rest), unique=True)) if rest else []
    metrics = (first, *sorted(more, key=rest.index))
    size = tuple(draw(st.lists(st.sampled_from("sml"), min_size=1, max_size=2, unique=True)))
    approaches = _subset(draw, [a.name for a in APPROACHES[kind]])
    return CompactPlan(kind, approaches, size, metrics, draw(st.sampled_from(REPEATS)))


def _busy_workspace(root):
    """A workspace already holding the ids and folders the expander would pick first."""
    for folder in ("iterations/logreg_m", "iterations/ridge_s", "iterations/kmeans_l"):
        (root / folder).mkdir(parents=True)
        (root / folder / "main.py").write_text("def run(parameters):\n    return {}\n")
    iterations = [
        {"id": "logreg-m", "source_path": "iterations/logreg_m", "entry_point": "main.py"},
        {"id": "ridge-s-2", "source_path": "iterations/ridge_s", "entry_point": "main.py"},
    ]
    metrics = [{"id": "accuracy", "higher_is_better": True, "unit": "%"}]
    runs = [{"id": "kernel-run-1", "iteration_ids": ["logreg-m"], "metric_ids": ["accuracy"]}]
    (root / "iterations" / "naive_s").write_text("a file where a folder would go")
    for name, key, entries in (
        ("iterations.json", "iterations", iterations),
        ("metrics.json", "metrics", metrics),
        ("runs.json", "runs", runs),
    ):
        (root / name).write_text(json.dumps({key: entries}))
    return root


@given(compact_plans())
def test_a_compact_plan_reads_back_as_written(plan):
    assert parse_compact(plan.to_text()) == plan


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=compact_plans(), busy=st.booleans())
def test_every_compact_plan_expands_to_a_plan_the_validator_accepts(tmp_path_factory, plan, busy):
    root = tmp_path_factory.mktemp("ws")
    existing = Existing.read(_busy_workspace(root) if busy else root)
    document = expand(plan, PlanTask.from_description("a task"), existing, STAMP)
    assert plan_problems(document, existing) == []
    assert [it["parameters"]["seed"] for it in document["iterations"]] == [0] * len(
        document["iterations"]
    )
    assert len(document["iterations"]) == len(plan.approaches) + (len(plan.size) == 2)


def test_expansion_avoids_the_workspaces_ids_and_folders_and_applies(tmp_path):
    root = _busy_workspace(tmp_path)
    plan = CompactPlan(
        "classification",
        ("logreg", "gboost"),
        ("m", "l"),
        ("accuracy", "f1_macro", "execution_time"),
        3,
    )
    document = expand(plan, PlanTask.from_description("Detect spam"), Existing.read(root), STAMP)
    ids = [it["id"] for it in document["iterations"]]
    assert ids == ["logreg-m-2", "gboost-m", "gboost-l"]
    assert document["iterations"][2]["parent"] == "gboost-m"
    assert document["iterations"][2]["parameters"] == {"n_estimators": 400, "seed": 0}
    assert [m["id"] for m in document["metrics"]] == [
        "f1_macro",
        "execution_time",
    ]  # accuracy is held
    assert document["runs"][0] | {"iteration_ids": ids} == document["runs"][0]
    assert (document["runs"][0]["id"], document["runs"][0]["seeds"]) == ("kernel-run-2", [0, 1, 2])
    from pytest_iterbench.llm.plan import Plan

    apply_plan(Plan.from_json(document), root)
    loaded = Workspace.load(root)
    assert {"logreg-m-2", "gboost-l"} <= set(loaded.iterations)


@pytest.mark.parametrize(
    "text",
    [
        "kind: regression\napproaches: logreg\nsize: m\nmetrics: rmse\nrepeats: 1\n",  # not a regression approach
        "kind: clustering\napproaches: kmeans kmeans\nsize: m\nmetrics: silhouette\nrepeats: 1\n",
        "kind: text\napproaches: naive_bayes\nsize: m\nmetrics: execution_time\nrepeats: 1\n",  # no quality metric
        "kind: images\napproaches: small_cnn\nsize: m m\nmetrics: accuracy\nrepeats: 1\n",
        "kind: images\napproaches: small_cnn\nsize: m\nmetrics: accuracy\nrepeats: 2\n",
        "kind: audio\napproaches: x\nsize: m\nmetrics: y\nrepeats: 1\n",
        '{"kind": "classification"}',
    ],
)
def test_texts_outside_the_grammar_are_refused(text):
    with pytest.raises(CompactPlanError, match="compact plan"):
        parse_compact(text)


def test_the_reference_plan_scores_one_and_an_invalid_plan_zero(tmp_path):
    existing = Existing.read(tmp_path)
    [example] = synthetic_examples(1, seed=3)
    reference = parse_compact(example.completion)
    document = expand(reference, PlanTask.from_description(example.prompt), existing, STAMP)
    assert sullivan_score(document, reference, existing).total == pytest.approx(1.0)
    broken = {**document, "runs": [{**document["runs"][0], "metric_ids": ["nope"]}]}
    assert sullivan_score(broken, reference, existing).to_json()["total"] == 0.0


def test_the_score_drops_with_the_wrong_kind_and_missing_approaches(tmp_path):
    existing = Existing.read(tmp_path)
    reference = CompactPlan(
        "regression",
        ("ridge", "random_forest", "gboost"),
        ("m",),
        ("rmse", "r2", "execution_time"),
        3,
    )
    partial = CompactPlan("regression", ("ridge",), ("m",), ("rmse", "execution_time"), 3)
    wrong = CompactPlan("classification", ("logreg",), ("m",), ("accuracy",), 1)
    task = PlanTask.from_description("Predict prices")
    scores = [
        sullivan_score(expand(plan, task, existing, STAMP), reference, existing)
        for plan in (reference, partial, wrong)
    ]
    assert scores[0].total > scores[1].total > scores[2].total
    assert (scores[1].parts["kind"], scores[1].parts["approaches"]) == (
        1.0,
        pytest.approx(1 / 3, abs=1e-3),
    )
    assert scores[2].parts["kind"] == 0.0


def test_the_claude_planners_plan_is_scored_too(tmp_path):
    (tmp_path / "iterations" / "v1").mkdir(parents=True)
    (tmp_path / "iterations" / "v1" / "main.py").write_text("def run(parameters):\n    return {}\n")
    held = {
        "iterations": [
            {"id": "v1-baseline", "source_path": "iterations/v1", "entry_point": "main.py"}
        ],
        "metrics": [
            {"id": m, "higher_is_better": True, "unit": ""}
            for m in ("accuracy", "f1_macro", "exec_time", "peak_memory")
        ],
    }
    for key, entries in held.items():
        (tmp_path / f"{key}.json").write_text(json.dumps({key: entries}))
    answer = digits_plan_answer()
    document = {
        **answer,
        "plan_version": 1,
        "description": "d",
        "source": {"kind": "description"},
        "planner": "claude-api",
        "created_at": "2026-11-30T12:00:00Z",
    }
    existing = Existing.read(tmp_path)
    assert plan_problems(document, existing) == []
    reference = CompactPlan(
        "classification",
        ("knn", "random_forest", "svm"),
        ("m",),
        ("accuracy", "f1_macro", "execution_time"),
        1,
    )
    score = sullivan_score(document, reference, existing)
    assert score.parts["kind"] == 1.0
    assert score.parts["approaches"] == pytest.approx(1.0)


def test_the_synthetic_set_covers_every_kind_and_the_baseline_trails_the_references(tmp_path):
    examples = synthetic_examples(300, seed=11)
    assert {e.kind for e in examples} == set(KINDS)
    existing = Existing.read(tmp_path)
    baseline = []
    for example in examples[:60]:
        reference = parse_compact(example.completion)
        task = PlanTask.from_description(example.prompt)
        baseline.append(
            sullivan_score(
                expand(baseline_compact(example.prompt), task, existing, STAMP), reference, existing
            ).total
        )
    assert 0.5 < sum(baseline) / len(baseline) < 0.95


def test_held_out_examples_never_reach_the_training_side():
    examples = synthetic_examples(400, seed=5)
    train, heldout = split(examples + examples[:50])
    assert heldout
    assert not {e.prompt for e in train} & {e.prompt for e in heldout}
    assert len(train) + len(heldout) == len({e.prompt for e in examples})
    assert {e.prompt for e in split(list(reversed(examples)))[1]} == {e.prompt for e in heldout}


def test_traced_api_plans_become_anonymised_examples():
    task = "Classify digits for bob@example.org from /home/bob/data/digits.csv"

    first = [{"role": "user", "content": f"Task:\n{task}\n\nThe workspace already holds:\n..."}]
    repaired = [*first, {"role": "assistant", "content": []}, {"role": "user", "content": "fix"}]
    solver = TraceRecord(
        "2026-11-30T12:00:00Z", "solver", "claude", "ok", TokenUsage(), None, 0.0, 0, "y"
    )
    [example] = trace_examples([planner_trace(first), planner_trace(repaired), solver])
    assert example.prompt == "Classify digits for <email> from <path>"
    assert example.source == "trace"
    assert example.completion.startswith("kind: classification\n")
    assert parse_compact(example.completion).approaches == ("knn", "random_forest", "svm")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Forecast next week's sales", "timeseries"),
        ("Group users without labels", "clustering"),
        ("Predict the price of a house", "regression"),
        ("Recognise digits in photos", "images"),
    ],
)
def test_the_baseline_reads_the_kind_from_keywords(text, kind):
    assert guess_kind(text) == kind


def test_prompts_are_cut_and_folded():
    assert task_text("a\n\n  b " + "x" * 5000) == ("a b " + "x" * 5000)[:600]
