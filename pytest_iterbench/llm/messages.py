"""What the layer sends to and gets back from a model, independent of the SDK.

``MessageSender`` is the seam: ``ClaudeClient`` implements it over the
anthropic SDK; the planner and the reviewer only know this protocol, so a
local model (the ``kernel`` planner) can implement it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_iterbench.llm.errors import ModelAnswerInvalid
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.traces import Role, TraceRecord


@dataclass(frozen=True)
class LlmRequest:
    """One Messages API request: a system prompt, the conversation and the tools offered.

    ``cache_system`` marks the system prompt (and with it the tool
    definitions, which come before it) as a prompt-cache breakpoint.
    """

    system: str
    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] = ()
    cache_system: bool = True

    def system_blocks(self) -> list[dict[str, Any]]:
        block: dict[str, Any] = {"type": "text", "text": self.system}
        if self.cache_system:
            block["cache_control"] = {"type": "ephemeral"}
        return [block]

    def to_json(self, model: str) -> dict[str, Any]:
        """The request's content as plain JSON (what is hashed and traced)."""
        return {
            "model": model,
            "system": self.system_blocks(),
            "messages": list(self.messages),
            "tools": list(self.tools),
        }


@dataclass(frozen=True)
class ToolCall:
    """A ``tool_use`` block of an answer."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class LlmResponse:
    """A model's answer, with its cost and the trace record written for it."""

    model: str
    content: tuple[dict[str, Any], ...]
    usage: TokenUsage
    cost_usd: float | None
    stop_reason: str | None
    trace: TraceRecord
    tool_calls: tuple[ToolCall, ...] = field(default=())

    @property
    def text(self) -> str:
        return "".join(
            block.get("text", "") for block in self.content if block.get("type") == "text"
        )

    def assistant_message(self) -> dict[str, Any]:
        """The answer as the ``assistant`` turn of a follow-up request."""
        return {"role": "assistant", "content": list(self.content)}


class MessageSender(Protocol):
    """Sends one request to a model and traces it (``ClaudeClient``, or a test's fake)."""

    @property
    def model(self) -> str: ...

    def send(
        self,
        request: LlmRequest,
        *,
        role: Role,
        iteration_id: str | None = None,
        attempt: int | None = None,
    ) -> LlmResponse: ...


@dataclass(frozen=True)
class StructuredAnswer:
    """The JSON object a model answered with, and the tool call that carried it (if any)."""

    data: dict[str, Any]
    tool_call: ToolCall | None = None


def structured_answer(response: LlmResponse, tool_name: str, role: str) -> StructuredAnswer:
    """The object of a ``tool_name`` call, else a JSON object in the text; ``ModelAnswerInvalid`` else."""
    for call in response.tool_calls:
        if call.name == tool_name:
            return StructuredAnswer(call.input, call)
    text = _strip_fence(response.text.strip())
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        found = f"text {text[:60]!r}" if text else "no text and no tool call"
        raise ModelAnswerInvalid(role, f"a {tool_name} tool call or a JSON object", found) from None
    if not isinstance(data, dict):
        raise ModelAnswerInvalid(role, "a JSON object", type(data).__name__)
    return StructuredAnswer(data)


def _strip_fence(text: str) -> str:
    if text.startswith("```") and text.endswith("```"):
        return text.split("\n", 1)[1].rsplit("```", 1)[0] if "\n" in text else ""
    return text


def follow_up(response: LlmResponse, feedback: str) -> list[dict[str, Any]]:
    """The two turns that answer a model's output with ``feedback``.

    The API wants a ``tool_result`` for every ``tool_use`` of the previous
    turn, so feedback on a tool call goes back as (error) tool results.
    """
    if not response.tool_calls:
        return [response.assistant_message(), {"role": "user", "content": feedback}]
    results = [
        {"type": "tool_result", "tool_use_id": call.id, "is_error": True, "content": feedback}
        for call in response.tool_calls
    ]
    return [response.assistant_message(), {"role": "user", "content": results}]
