"""A scripted Messages API for offline tests: an ``httpx2.MockTransport`` handler.

Each request gets the next scripted reply: an answer (text or a tool call,
with the usage to report), an error status, or a timeout. The fake checks the
request the way the API would (method, path, required fields, a
``tool_result`` for every ``tool_use`` of the previous turn) and answers 400
when it is malformed. It records every request, so a test can look at what
was sent.

>>> api = FakeMessagesApi([tool_answer("submit_plan", {"runs": []})])
>>> client = ClaudeClient(ApiKey("sk-test-key"), http_client=api.http_client())  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx2

from pytest_iterbench.llm.pricing import TokenUsage

Reply = Callable[[httpx2.Request, dict[str, Any]], httpx2.Response]
# Tests should not sleep through the SDK's backoff: error replies ask for a 1 ms wait.
FAST_RETRY = {"retry-after-ms": "1"}


def _usage_json(usage: TokenUsage) -> dict[str, Any]:
    data: dict[str, Any] = usage.to_json()
    one_hour = data.pop("cache_creation_1h_tokens")
    data["cache_creation"] = {
        "ephemeral_1h_input_tokens": one_hour,
        "ephemeral_5m_input_tokens": usage.cache_creation_input_tokens - one_hour,
    }
    return data


def _message(
    body: dict[str, Any], content: list[dict[str, Any]], usage: TokenUsage
) -> dict[str, Any]:
    stop = "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "unknown"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage_json(usage),
    }


def text_answer(text: str, usage: TokenUsage | None = None) -> Reply:
    """An answer holding one text block."""
    tokens = usage or TokenUsage(input_tokens=1_000, output_tokens=200)
    content = [{"type": "text", "text": text}]
    return lambda request, body: httpx2.Response(200, json=_message(body, content, tokens))


def tool_answer(
    name: str, data: dict[str, Any], usage: TokenUsage | None = None, *, call_id: str = "toolu_fake"
) -> Reply:
    """An answer calling tool ``name`` with ``data``."""
    tokens = usage or TokenUsage(input_tokens=1_000, output_tokens=200)
    content = [{"type": "tool_use", "id": call_id, "name": name, "input": data}]
    return lambda request, body: httpx2.Response(200, json=_message(body, content, tokens))


def error_status(status: int, error_type: str, message: str = "") -> Reply:
    """An error answer (429 rate_limit_error, 500 api_error, 529 overloaded_error, ...)."""
    error = {"type": "error", "error": {"type": error_type, "message": message or error_type}}
    return lambda request, body: httpx2.Response(status, headers=FAST_RETRY, json=error)


def timeout() -> Reply:
    """No answer: the read times out."""

    def reply(request: httpx2.Request, body: dict[str, Any]) -> httpx2.Response:
        raise httpx2.ReadTimeout("fake read timeout", request=request)

    return reply


def _tool_results_missing(messages: list[dict[str, Any]]) -> str | None:
    for previous, current in itertools.pairwise(messages):
        content = previous.get("content")
        if previous.get("role") != "assistant" or not isinstance(content, list):
            continue
        wanted = {b["id"] for b in content if b.get("type") == "tool_use"}
        given = current.get("content")
        given = given if isinstance(given, list) else []
        answered = {b.get("tool_use_id") for b in given if b.get("type") == "tool_result"}
        if wanted - answered:
            return f"tool_use ids without tool_result: {sorted(wanted - answered)}"
    return None


def malformed(request: httpx2.Request, body: dict[str, Any]) -> str | None:
    """Why the API would reject this request, or None."""
    if request.method != "POST" or request.url.path != "/v1/messages":
        return f"unexpected {request.method} {request.url.path}"
    missing = [key for key in ("model", "max_tokens", "messages") if key not in body]
    if missing:
        return f"missing fields: {missing}"
    return _tool_results_missing(body["messages"])


class FakeMessagesApi:
    """The fake: ``replies`` in order; ``requests`` (JSON bodies) and ``headers`` as received."""

    def __init__(self, replies: Iterable[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        problem = malformed(request, body)
        if problem is not None:
            return error_status(400, "invalid_request_error", problem)(request, body)
        if not self.replies:
            return error_status(500, "api_error", "the fake has no reply left")(request, body)
        return self.replies.pop(0)(request, body)

    def http_client(self) -> httpx2.Client:
        """An ``httpx2.Client`` that sends to this fake."""
        return httpx2.Client(transport=httpx2.MockTransport(self))


def _iteration(
    iteration_id: str, approach: str, parameters: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "id": iteration_id,
        "name": fields.pop("name", iteration_id),
        "description": fields.pop("description", ""),
        "approach": approach,
        "source_path": f"iterations/{iteration_id.replace('-', '_')}/",
        "entry_point": "main.py",
        "parameters": {**parameters, "seed": 0},
        "parent": fields.pop("parent", None),
        "tags": fields.pop("tags", [approach]),
    }


def digits_plan_answer() -> dict[str, Any]:
    """A realistic planner answer for the example workspace (digits, with ``v1-baseline``).

    It references the workspace's ``v1-baseline`` and its ``accuracy``,
    ``f1_macro``, ``exec_time`` and ``peak_memory`` metrics, and adds an LLM
    cost metric: what a good answer looks like, in size and shape.
    """
    iterations = [
        _iteration(
            "v3-random-forest",
            "tree-ensemble",
            {"n_estimators": 300, "max_depth": None},
            name="Random forest",
            description="A random forest on the raw 8x8 pixels: robust, no scaling needed.",
        ),
        _iteration(
            "v4-svm-rbf",
            "kernel-method",
            {"C": 10.0, "gamma": "scale"},
            name="RBF support vector machine",
            description="Standardised pixels and an RBF-kernel SVM, strong on small image sets.",
        ),
        _iteration(
            "v4-svm-rbf-c1",
            "kernel-method",
            {"C": 1.0, "gamma": "scale"},
            parent="v4-svm-rbf",
            name="RBF SVM, C=1",
            description="The same SVM with ten times stronger regularisation.",
            tags=["kernel-method", "hyperparameter-tuning"],
        ),
        _iteration(
            "v5-knn",
            "instance-based",
            {"n_neighbors": 3, "weights": "distance"},
            name="k-nearest neighbours",
            description="Distance-weighted 3-NN on standardised pixels: a simple non-parametric reference.",
        ),
    ]
    metrics = [
        {
            "id": "llm_cost_usd",
            "name": "LLM cost",
            "description": "USD of the Claude calls that produced the iteration",
            "type": "cost",
            "class": "pytest_iterbench.llm.cost_metrics.LlmCostMetric",
            "higher_is_better": False,
            "unit": "USD",
        },
    ]
    new_ids = [it["id"] for it in iterations]
    runs = [
        {
            "id": "run-003",
            "name": "New approaches vs baseline",
            "description": "Every new approach against the logistic-regression baseline, quality and cost",
            "iteration_ids": ["v1-baseline", *new_ids],
            "metric_ids": ["accuracy", "f1_macro", "exec_time", "peak_memory", "llm_cost_usd"],
        },
        {
            "id": "run-004",
            "name": "SVM regularisation",
            "description": "The effect of C on the RBF SVM",
            "iteration_ids": ["v4-svm-rbf", "v4-svm-rbf-c1"],
            "metric_ids": ["accuracy", "f1_macro"],
        },
    ]
    rationale = (
        "The logistic-regression baseline is strong on digits, so the plan adds three genuinely different "
        "families: a random forest (no scaling, non-linear), an RBF SVM (the classic best performer on this data "
        "set) and a distance-weighted k-NN. Only the SVM, the most promising, gets a regularisation variant. "
        "Every iteration is measured on accuracy and macro F1 for quality, on time and memory for cost, and on "
        "the LLM cost of producing it."
    )
    return {"rationale": rationale, "iterations": iterations, "metrics": metrics, "runs": runs}
