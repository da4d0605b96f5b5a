"""ClaudeClient against a scripted Messages API: answers, retries, failures, traces, costs."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("anthropic")

from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.errors import ClaudeApiError, UnknownModelPrice
from pytest_iterbench.llm.fake_api import (
    FakeMessagesApi,
    error_status,
    text_answer,
    timeout,
    tool_answer,
)
from pytest_iterbench.llm.messages import LlmRequest
from pytest_iterbench.llm.pricing import TokenUsage, cost
from pytest_iterbench.llm.secrets import ApiKey
from pytest_iterbench.llm.traces import TraceStore

KEY = ApiKey("sk-ant-test-client-0000000000")
USAGE = TokenUsage(input_tokens=2_000, output_tokens=800, cache_read_input_tokens=3_000)
REQUEST = LlmRequest(
    system="You plan.",
    messages=({"role": "user", "content": "Plan digits."},),
    tools=({"name": "submit_plan", "description": "d", "input_schema": {"type": "object"}},),
)


@pytest.fixture(autouse=True)
def _no_sdk_environment(monkeypatch):
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def make_client(tmp_path, replies, *, retries=2, model="claude-sonnet-5-5", content=True):
    api = FakeMessagesApi(replies)
    config = ClientConfig(model=model, max_retries=retries, timeout_seconds=5)
    traces = TraceStore(tmp_path, store_content=content)
    return ClaudeClient(KEY, config, traces=traces, http_client=api.http_client()), api, traces


def test_a_tool_use_answer_is_parsed_costed_and_traced(tmp_path):
    client, _api, traces = make_client(tmp_path, [tool_answer("submit_plan", {"runs": []}, USAGE)])
    response = client.send(REQUEST, role="planner", iteration_id="v3", attempt=1)
    assert [(c.name, c.input) for c in response.tool_calls] == [("submit_plan", {"runs": []})]
    assert response.usage == USAGE
    assert response.cost_usd == pytest.approx((2_000 * 2 + 3_000 * 0.10 + 800 * 10) / 1e6)
    [record] = list(traces.records())
    assert (record.role, record.model, record.iteration_id, record.attempt) == (
        "planner",
        "claude-sonnet-5-5",
        "v3",
        1,
    )
    assert (record.status, record.retries, record.cost_usd) == ("ok", 0, response.cost_usd)
    assert len(record.prompt_sha256) == 64
    assert record.latency_seconds > 0
    assert record.prompt["messages"] == [{"role": "user", "content": "Plan digits."}]
    assert record.answer[0]["type"] == "tool_use"


def test_the_system_prompt_is_a_cache_breakpoint(tmp_path):
    client, api, _ = make_client(tmp_path, [text_answer("{}")])
    client.send(REQUEST, role="planner")
    [body] = api.requests
    assert body["system"] == [
        {"type": "text", "text": "You plan.", "cache_control": {"type": "ephemeral"}}
    ]
    assert body["tools"][0]["name"] == "submit_plan"


def test_a_429_then_success_counts_the_retry_and_costs_only_the_answer(tmp_path):
    replies = [error_status(429, "rate_limit_error"), text_answer("{}", USAGE)]
    client, api, traces = make_client(tmp_path, replies)
    response = client.send(REQUEST, role="solver")
    assert len(api.requests) == 2
    [record] = list(traces.records())
    assert record.retries == 1
    assert record.cost_usd == response.cost_usd == cost("claude-sonnet-5-5", USAGE)


@pytest.mark.parametrize(("status", "error_type"), [(529, "overloaded_error"), (500, "api_error")])
def test_server_errors_exhaust_the_retries_with_a_clear_error(tmp_path, status, error_type):
    client, api, traces = make_client(tmp_path, [error_status(status, error_type)] * 3, retries=2)
    with pytest.raises(ClaudeApiError) as caught:
        client.send(REQUEST, role="planner")
    error = caught.value
    assert (error.kind, error.status_code, error.error_type, error.attempts) == (
        "status",
        status,
        error_type,
        3,
    )
    assert f"after 3 attempt(s): HTTP {status} {error_type}" in str(error)
    assert error.__cause__ is None  # the SDK's exception holds the request and its headers
    assert error.__context__ is None
    assert len(api.requests) == 3
    [record] = list(traces.records())
    assert (record.status, record.retries, record.cost_usd) == ("error", 2, 0.0)
    assert record.usage == TokenUsage()
    assert "HTTP" in record.error


def test_a_client_error_is_not_retried(tmp_path):
    client, api, _ = make_client(tmp_path, [error_status(400, "invalid_request_error", "bad")])
    with pytest.raises(ClaudeApiError, match="HTTP 400 invalid_request_error: bad"):
        client.send(REQUEST, role="planner")
    assert len(api.requests) == 1


def test_a_timeout_is_retried(tmp_path):
    client, _api, traces = make_client(tmp_path, [timeout(), text_answer("{}")], retries=1)
    client.send(REQUEST, role="planner")
    assert [r.retries for r in traces.records()] == [1]


def test_a_timeout_without_retries_left_is_a_clear_error(tmp_path):
    client, _, traces = make_client(tmp_path, [timeout()], retries=0)
    with pytest.raises(
        ClaudeApiError, match=r"after 1 attempt\(s\): timeout: no answer within 5 s"
    ):
        client.send(REQUEST, role="reviewer")
    assert [(r.status, r.role) for r in traces.records()] == [("error", "reviewer")]


def test_an_unknown_model_gets_no_cost_and_a_warning(tmp_path):
    client, _, traces = make_client(tmp_path, [text_answer("{}")], model="claude-future-9")
    with pytest.warns(UnknownModelPrice, match="claude-future-9"):
        response = client.send(REQUEST, role="planner")
    assert response.cost_usd is None
    assert [r.cost_usd for r in traces.records()] == [None]


def test_trace_content_can_be_turned_off(tmp_path):
    client, _, _traces = make_client(tmp_path, [text_answer("secret answer")], content=False)
    client.send(REQUEST, role="planner")
    [line] = (tmp_path / ".iterbench" / "traces").glob("*.jsonl")
    data = json.loads(line.read_text())
    assert "prompt" not in data
    assert "answer" not in data
    assert data["prompt_sha256"]
    assert data["output_tokens"] == 200
    assert "secret answer" not in line.read_text()


def test_a_torn_trace_line_is_skipped(tmp_path):
    client, _, traces = make_client(tmp_path, [text_answer("{}")])
    client.send(REQUEST, role="planner")
    [path] = traces.directory.glob("*.jsonl")
    with path.open("a") as handle:
        handle.write('{"call_id": "x", "timest')
    assert len(list(traces.records())) == 1
