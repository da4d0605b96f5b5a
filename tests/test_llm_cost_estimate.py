"""What one plan costs, from the token counts of a realistic planning call.

The prompt is the real planner request for this repository's example workspace
(the digits task). Offline there is no token counter, so tokens are estimated
at 3.5 characters per token (JSON and English prose; the newer tokenizers
count about 30% more), plus the API's own tool-use system prompt (346 tokens,
the figure documented for Claude 4 models with tool choice ``auto``). The answer is a
realistic plan of the same workspace. The estimate goes through the client and
its fake API, so the cost is computed from the token counts the trace records.
Run with ``-s`` to see the table (also in docs/llm.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("anthropic")

from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.fake_api import FakeMessagesApi, digits_plan_answer, tool_answer
from pytest_iterbench.llm.messages import LlmRequest
from pytest_iterbench.llm.plan import Existing
from pytest_iterbench.llm.planner import plan_tool
from pytest_iterbench.llm.pricing import TokenUsage, cost
from pytest_iterbench.llm.prompts import planner_system, planner_user
from pytest_iterbench.llm.secrets import ApiKey
from pytest_iterbench.llm.structured import repair_message
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceStore

REPO = Path(__file__).resolve().parents[1]
CHARS_PER_TOKEN = 3.5
TOOL_USE_SYSTEM_TOKENS = 346
SEED_TARGET_USD = 0.022
TASK = (
    "Assignment: classify the 8x8 handwritten digits of scikit-learn (1,797 images, 10 classes). "
    "Compare at least three approaches against the logistic-regression baseline, report accuracy and "
    "macro F1 on a held-out test set, and say which approach you would hand in and why, considering "
    "training time and memory as well as quality. Everything must run on a laptop CPU."
)


def tokens(text: str) -> int:
    return round(len(text) / CHARS_PER_TOKEN)


def planning_call() -> tuple[int, int, int]:
    """Tokens of the cacheable prefix (tools + system), of the user message, of the answer."""
    existing = Existing.read(REPO)
    tools = json.dumps(plan_tool().to_json())
    prefix = tokens(tools) + tokens(planner_system()) + TOOL_USE_SYSTEM_TOKENS
    user = tokens(planner_user(PlanTask.from_description(TASK), existing))
    answer = tokens(json.dumps(digits_plan_answer()))
    return prefix, user, answer


def scenarios() -> dict[str, TokenUsage]:
    prefix, user, answer = planning_call()
    feedback = tokens(repair_message("submit_plan", [])) + 40  # one problem line
    return {
        "no prompt caching": TokenUsage(input_tokens=prefix + user, output_tokens=answer),
        "first call (cache write)": TokenUsage(
            input_tokens=user, cache_creation_input_tokens=prefix, output_tokens=answer
        ),
        "warm cache (cache read)": TokenUsage(
            input_tokens=user, cache_read_input_tokens=prefix, output_tokens=answer
        ),
        "repair call, warm cache": TokenUsage(
            input_tokens=user + answer + feedback,
            cache_read_input_tokens=prefix,
            output_tokens=answer,
        ),
        "warm, +1,000 thinking tokens": TokenUsage(
            input_tokens=user, cache_read_input_tokens=prefix, output_tokens=answer + 1_000
        ),
    }


def traced_cost(tmp_path, usage: TokenUsage, model: str) -> float:
    api = FakeMessagesApi([tool_answer("submit_plan", digits_plan_answer(), usage)])
    client = ClaudeClient(
        ApiKey("sk-ant-test-estimate-000000"),
        ClientConfig(model=model, max_retries=0),
        traces=TraceStore(tmp_path),
        http_client=api.http_client(),
    )
    request = LlmRequest(system="s", messages=({"role": "user", "content": "u"},))
    client.send(request, role="planner")
    return [r.cost_usd for r in TraceStore(tmp_path).records()][-1]


def test_a_plan_costs_about_the_seeds_target(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    prefix, user, answer = planning_call()
    rows = []
    for name, usage in scenarios().items():
        usd = traced_cost(tmp_path, usage, "claude-sonnet-5-5")
        assert usd == pytest.approx(cost("claude-sonnet-5-5", usage))
        rows.append((name, usage, usd))
    print(f"\nprefix {prefix} tokens (tools + system), user {user}, answer {answer}")
    for name, usage, usd in rows:
        print(
            f"| {name} | {usage.input_tokens:,} | {usage.cache_creation_input_tokens:,} | "
            f"{usage.cache_read_input_tokens:,} | {usage.output_tokens:,} | {usd:.4f} |"
        )
    by_name = {name: usd for name, _, usd in rows}
    uncached = by_name["no prompt caching"]
    assert SEED_TARGET_USD / 2 <= uncached <= SEED_TARGET_USD * 2
    assert by_name["first call (cache write)"] > uncached  # a cache write costs 1.25x input
    assert by_name["warm cache (cache read)"] < 0.75 * uncached
    output_share = answer * 10e-6 / by_name["warm cache (cache read)"]
    assert output_share > 0.5  # output tokens drive the cost once the prefix is cached


@pytest.mark.parametrize(
    "model", ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"]
)
def test_the_model_is_the_first_lever(tmp_path, model, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    usage = scenarios()["no prompt caching"]
    print(f"\n{model}: {cost(model, usage):.4f} USD per plan (no caching)")
    assert traced_cost(tmp_path, usage, model) == pytest.approx(cost(model, usage))
