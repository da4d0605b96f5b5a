"""Costs as metrics (results.json, the report) and `iterbench costs` over the trace."""

from __future__ import annotations

import json

import pytest
from markdown_lint import assert_markdown_clean

from pytest_iterbench import cli
from pytest_iterbench.execution.executor import Execution
from pytest_iterbench.llm.cost_metrics import (
    LlmCostMetric,
    LlmInputTokensMetric,
    LlmOutputTokensMetric,
)
from pytest_iterbench.llm.costs import render_costs, summarise
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.traces import TraceRecord, TraceStore
from pytest_iterbench.workspace.model import Iteration

COST_METRICS = [
    ("llm_cost_usd", "LlmCostMetric", "USD"),
    ("llm_input_tokens", "LlmInputTokensMetric", "tokens"),
    ("llm_output_tokens", "LlmOutputTokensMetric", "tokens"),
]


def record(role="solver", model="claude-sonnet-5-5", day="2026-11-20", iteration="v1", **usage):
    tokens = TokenUsage(**{"input_tokens": 1_000, "output_tokens": 500, **usage})
    return TraceRecord(
        timestamp=f"{day}T10:00:00.000Z",
        role=role,
        model=model,
        status="ok",
        usage=tokens,
        cost_usd=None if model == "claude-unpriced" else 0.01,
        latency_seconds=1.5,
        retries=0,
        prompt_sha256="0" * 64,
        iteration_id=iteration,
    )


def traced(root, *records):
    store = TraceStore(root)
    for item in records:
        store.append(item)
    return store


def execution(root, iteration_id="v1"):
    iteration = Iteration(iteration_id, f"iterations/{iteration_id}", "main.py")
    return Execution(iteration=iteration, directory=root, status="ok", workspace_root=root)


def metric(cls, metric_id, unit):
    instance = cls()
    instance.metric_id, instance.unit = metric_id, unit
    return instance


def test_cost_metrics_sum_the_iterations_calls(tmp_path):
    traced(
        tmp_path,
        record("planner", cache_read_input_tokens=4_000),
        record("solver"),
        record("reviewer", iteration="v2"),
    )
    cost = metric(LlmCostMetric, "llm_cost_usd", "USD").measure_execution(execution(tmp_path))
    assert (cost.value, cost.unit) == (pytest.approx(0.02), "USD")
    assert cost.metadata["llm_calls"] == 2
    inputs = metric(LlmInputTokensMetric, "in", "").measure_execution(execution(tmp_path))
    assert (inputs.value, inputs.unit) == (6_000, "tokens")
    outputs = metric(LlmOutputTokensMetric, "out", "tokens").measure_execution(execution(tmp_path))
    assert outputs.value == 1_000


def test_no_trace_gives_zero_and_says_so(tmp_path):
    result = metric(LlmCostMetric, "llm_cost_usd", "USD").measure_execution(execution(tmp_path))
    assert result.value == 0
    assert result.metadata == {"llm_calls": 0, "note": "no LLM call is traced for this iteration"}


def test_an_unpriced_call_makes_the_cost_a_stated_lower_bound(tmp_path):
    traced(tmp_path, record(), record(model="claude-unpriced"))
    result = metric(LlmCostMetric, "llm_cost_usd", "USD").measure_execution(execution(tmp_path))
    assert result.value == pytest.approx(0.01)
    assert result.metadata["unpriced_calls"] == 1
    assert "lower bound" in result.metadata["note"]


def test_cost_metrics_land_in_results_json_and_the_report(workspace, pytester):
    workspace.iteration("v1").iteration("v2")
    for metric_id, cls, unit in COST_METRICS:
        workspace.metric(
            metric_id, f"pytest_iterbench.llm.metrics.{cls}", unit=unit, higher_is_better=False
        )
    workspace.run("run-001").write()
    traced(workspace.root, record(iteration="v1"), record(iteration="v1", output_tokens=700))
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    values = {(r["iteration_id"], r["metric_id"]): r for r in workspace.results()}
    assert values["v1", "llm_cost_usd"]["value"] == pytest.approx(0.02)
    assert values["v1", "llm_input_tokens"]["value"] == 2_000
    assert values["v1", "llm_output_tokens"]["value"] == 1_200
    assert values["v2", "llm_cost_usd"]["value"] == 0
    assert values["v2", "llm_cost_usd"]["metadata"]["llm_calls"] == 0
    assert "llm\\_cost\\_usd (USD)" in workspace.report()


def test_costs_sums_by_role_model_and_day(tmp_path, capsys):
    traced(
        tmp_path,
        record("planner", day="2026-11-20"),
        record("planner", day="2026-11-20"),
        record("reviewer", model="claude-opus-5-5", day="2026-11-21"),
        record("solver", model="claude-unpriced", day="2026-11-21"),
    )
    assert cli.main(["costs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "| planner | claude-sonnet-5-5 | 2026-11-20 | 2 | 0 | 2,000 | 0 | 0 | 1,000 | 0.0200 |"
        in out
    )
    assert "| solver | claude-unpriced | 2026-11-21 | 1 |" in out
    assert "≥ 0.0300 (1 unpriced)" in out
    assert_markdown_clean(out)


def test_costs_by_iteration_and_bad_groupings(tmp_path, capsys):
    traced(tmp_path, record(iteration="v1"), record(iteration=None))
    assert cli.main(["costs", "--dir", str(tmp_path), "--by", "iteration"]) == 0
    out = capsys.readouterr().out
    assert "| v1 | 1 |" in out
    assert "| - | 1 |" in out
    assert cli.main(["costs", str(tmp_path), "--by", "colour"]) == 2
    assert cli.main(["costs", str(tmp_path / "empty")]) == 0
    assert "no LLM calls traced" in capsys.readouterr().out


def test_rows_are_sorted_and_grouped():
    rows = summarise([record("solver"), record("planner"), record("planner")], ["role"])
    assert [(r.key, r.totals.calls) for r in rows] == [(("planner",), 2), (("solver",), 1)]
    assert_markdown_clean(render_costs(rows, ["role"]))


def test_a_trace_record_round_trips(tmp_path):
    original = record(cache_creation_input_tokens=10, cache_creation_1h_tokens=4)
    store = traced(tmp_path, original)
    [line] = store.directory.glob("*.jsonl")
    assert line.name == "2026-11-20.jsonl"
    assert TraceRecord.from_json(json.loads(line.read_text())) == original
