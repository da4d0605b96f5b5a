"""The LLM layer: Claude API client, planner, reviewer, traces and cost accounting.

Re-exports only. ``ClaudeClient`` needs the ``llm`` extra
(the anthropic SDK) and is imported on first use, so the trace, cost and
metric parts work without it.

The modules form layers, each importing only from those below it:

1. errors and data: ``review_types`` (the review loop's data), ``errors``,
   ``config``, ``tasks``, ``pricing`` (token usage and the price table);
2. records and checks: ``traces``, ``secrets``, ``messages``, ``costs``, ``fake_api``,
   ``plan``;
3. services: ``client``, ``structured``, ``cost_metrics`` (``metrics``
   re-exports it under the documented class path), ``prompts``, ``apply``;
4. roles and commands: ``planner``, ``reviewer``, ``commands``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
    from pytest_iterbench.llm.apply import AppliedPlan, apply_plan
    from pytest_iterbench.llm.client import ClaudeClient
    from pytest_iterbench.llm.config import ClientConfig
    from pytest_iterbench.llm.cost_metrics import (
        LlmCostMetric,
        LlmInputTokensMetric,
        LlmOutputTokensMetric,
    )
    from pytest_iterbench.llm.costs import CostTotals, render_costs, summarise, totals
    from pytest_iterbench.llm.errors import (
        ApiKeyMissing,
        ClaudeApiError,
        LlmError,
        ModelAnswerInvalid,
        PlanInvalid,
        PlannerUnavailable,
        ReviewLoopExhausted,
        UnknownModelPrice,
    )
    from pytest_iterbench.llm.messages import LlmRequest, LlmResponse, MessageSender
    from pytest_iterbench.llm.plan import Plan, check_plan
    from pytest_iterbench.llm.planner import ClaudePlanner, Planner, load_manual_plan
    from pytest_iterbench.llm.pricing import PRICE_TABLE_DATE, TokenUsage, cost
    from pytest_iterbench.llm.review_types import Attempt, Failure, LoopResult, Review
    from pytest_iterbench.llm.reviewer import ClaudeReviewer, review_loop
    from pytest_iterbench.llm.secrets import ApiKey, resolve_api_key
    from pytest_iterbench.llm.tasks import PlanTask
    from pytest_iterbench.llm.traces import TraceRecord, TraceStore

#: Each public name and the module that owns it, imported on first use.
_OWNERS = {
    "ApiKey": "pytest_iterbench.llm.secrets",
    "ApiKeyMissing": "pytest_iterbench.llm.errors",
    "AppliedPlan": "pytest_iterbench.llm.apply",
    "Attempt": "pytest_iterbench.llm.review_types",
    "ClaudeApiError": "pytest_iterbench.llm.errors",
    "ClaudeClient": "pytest_iterbench.llm.client",
    "ClaudePlanner": "pytest_iterbench.llm.planner",
    "ClaudeReviewer": "pytest_iterbench.llm.reviewer",
    "ClientConfig": "pytest_iterbench.llm.config",
    "CostTotals": "pytest_iterbench.llm.costs",
    "Failure": "pytest_iterbench.llm.review_types",
    "LlmCostMetric": "pytest_iterbench.llm.cost_metrics",
    "LlmError": "pytest_iterbench.llm.errors",
    "LlmInputTokensMetric": "pytest_iterbench.llm.cost_metrics",
    "LlmOutputTokensMetric": "pytest_iterbench.llm.cost_metrics",
    "LlmRequest": "pytest_iterbench.llm.messages",
    "LlmResponse": "pytest_iterbench.llm.messages",
    "LoopResult": "pytest_iterbench.llm.review_types",
    "MessageSender": "pytest_iterbench.llm.messages",
    "ModelAnswerInvalid": "pytest_iterbench.llm.errors",
    "PRICE_TABLE_DATE": "pytest_iterbench.llm.pricing",
    "Plan": "pytest_iterbench.llm.plan",
    "PlanInvalid": "pytest_iterbench.llm.errors",
    "PlanTask": "pytest_iterbench.llm.tasks",
    "Planner": "pytest_iterbench.llm.planner",
    "PlannerUnavailable": "pytest_iterbench.llm.errors",
    "Review": "pytest_iterbench.llm.review_types",
    "ReviewLoopExhausted": "pytest_iterbench.llm.errors",
    "TokenUsage": "pytest_iterbench.llm.pricing",
    "TraceRecord": "pytest_iterbench.llm.traces",
    "TraceStore": "pytest_iterbench.llm.traces",
    "UnknownModelPrice": "pytest_iterbench.llm.errors",
    "apply_plan": "pytest_iterbench.llm.apply",
    "check_plan": "pytest_iterbench.llm.plan",
    "cost": "pytest_iterbench.llm.pricing",
    "load_manual_plan": "pytest_iterbench.llm.planner",
    "render_costs": "pytest_iterbench.llm.costs",
    "resolve_api_key": "pytest_iterbench.llm.secrets",
    "review_loop": "pytest_iterbench.llm.reviewer",
    "summarise": "pytest_iterbench.llm.costs",
    "totals": "pytest_iterbench.llm.costs",
}

__all__ = [
    "PRICE_TABLE_DATE",
    "ApiKey",
    "ApiKeyMissing",
    "AppliedPlan",
    "Attempt",
    "ClaudeApiError",
    "ClaudeClient",
    "ClaudePlanner",
    "ClaudeReviewer",
    "ClientConfig",
    "CostTotals",
    "Failure",
    "LlmCostMetric",
    "LlmError",
    "LlmInputTokensMetric",
    "LlmOutputTokensMetric",
    "LlmRequest",
    "LlmResponse",
    "LoopResult",
    "MessageSender",
    "ModelAnswerInvalid",
    "Plan",
    "PlanInvalid",
    "PlanTask",
    "Planner",
    "PlannerUnavailable",
    "Review",
    "ReviewLoopExhausted",
    "TokenUsage",
    "TraceRecord",
    "TraceStore",
    "UnknownModelPrice",
    "apply_plan",
    "check_plan",
    "cost",
    "load_manual_plan",
    "render_costs",
    "resolve_api_key",
    "review_loop",
    "summarise",
    "totals",
]


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)
