"""``ClaudeClient``: the Messages API through the anthropic SDK, with costs and a trace.

Retries are the SDK's own (exponential backoff with jitter, honouring
``retry-after``) on 408, 409, 429, 5xx (529 overloaded included), timeouts and
connection errors, up to ``ClientConfig.max_retries``; the client counts the
HTTP attempts of each call through an SDK middleware. Every call, successful
or not, is appended to the workspace's trace. Needs the ``llm`` extra
(``anthropic``, which sends through ``httpx2``).

Tests pass ``http_client=httpx2.Client(transport=httpx2.MockTransport(handler))``::

    client = ClaudeClient(ApiKey("sk-test"), ClientConfig(max_retries=0),
                          traces=TraceStore(tmp_path), http_client=fake_http)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.errors import ClaudeApiError
from pytest_iterbench.llm.messages import LlmRequest, LlmResponse, ToolCall
from pytest_iterbench.llm.pricing import PRICE_TABLE_DATE, TokenUsage, cost
from pytest_iterbench.llm.secrets import ApiKey, Redactor
from pytest_iterbench.llm.traces import CallStatus, Role, TraceRecord, TraceStore, prompt_hash
from pytest_iterbench.results.records import utc_now


class _AttemptCounter(anthropic.Middleware):
    """Counts HTTP attempts: the SDK runs its middleware once per attempt, inside its retry loop."""

    def __init__(self) -> None:
        self.attempts = 0

    def handle(self, request: anthropic.APIRequest, call_next: Any) -> Any:
        self.attempts += 1
        return call_next(request)


@dataclass(frozen=True)
class _Call:
    """What the client knows about one call while it runs."""

    role: Role
    model: str
    request: dict[str, Any]
    started: float
    iteration_id: str | None
    attempt: int | None


class ClaudeClient:
    """Sends ``LlmRequest``s to Claude and traces each call (a ``MessageSender``).

    The key is handed to the SDK and to a ``Redactor``, nowhere else: every
    text that reaches the trace or an exception is scrubbed of it first.
    """

    def __init__(
        self,
        api_key: ApiKey,
        config: ClientConfig | None = None,
        *,
        traces: TraceStore | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.traces = traces
        self._redactor = Redactor([api_key])
        self._counter = _AttemptCounter()
        self._sdk = anthropic.Anthropic(
            api_key=api_key.reveal(),
            max_retries=self.config.max_retries,
            timeout=self.config.timeout_seconds,
            http_client=http_client,
            middleware=[self._counter],
        )

    @property
    def model(self) -> str:
        return self.config.model

    def send(
        self,
        request: LlmRequest,
        *,
        role: Role,
        iteration_id: str | None = None,
        attempt: int | None = None,
    ) -> LlmResponse:
        """One Messages API call; ``ClaudeApiError`` once the SDK's retries are spent."""
        call = _Call(
            role,
            self.model,
            request.to_json(self.model),
            time.perf_counter(),
            iteration_id,
            attempt,
        )
        self._counter.attempts = 0
        outcome = self._create(request)
        if isinstance(outcome, ClaudeApiError):
            self._record(call, "error", TokenUsage(), error=str(outcome))
            raise outcome
        return self._response(call, outcome)

    def _create(self, request: LlmRequest) -> Any:
        """The SDK's ``Message``, or the ``ClaudeApiError`` to raise.

        The error is returned, not raised here, so that it is raised outside
        this ``except`` block: it then has no ``__context__``, and the SDK's
        exception (which holds the request, ``Authorization`` header included)
        is not reachable from it.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.config.max_tokens,
            "system": request.system_blocks(),
            "messages": list(request.messages),
        }
        if request.tools:
            payload["tools"] = list(request.tools)
        if self.config.effort is not None:
            payload["output_config"] = {"effort": self.config.effort}
        try:
            return self._sdk.messages.create(**payload)
        except anthropic.APIError as exc:
            return self._error(exc)

    def _response(self, call: _Call, message: Any) -> LlmResponse:
        usage = TokenUsage.from_api(message.usage)
        content = [block.model_dump(mode="json", exclude_none=True) for block in message.content]
        trace = self._record(
            call,
            "ok",
            usage,
            answer=content,
            stop_reason=message.stop_reason,
            request_id=getattr(message, "_request_id", None),
        )
        answer = tuple(trace.answer or ())
        return LlmResponse(
            model=self.model,
            content=answer,
            usage=usage,
            cost_usd=trace.cost_usd,
            stop_reason=message.stop_reason,
            trace=trace,
            tool_calls=tuple(_tool_calls(answer)),
        )

    def _record(
        self, call: _Call, status: CallStatus, usage: TokenUsage, **fields: Any
    ) -> TraceRecord:
        """Build, scrub and append the call's trace record."""
        answer = fields.pop("answer", None)
        record = TraceRecord(
            timestamp=utc_now(),
            role=call.role,
            model=call.model,
            status=status,
            usage=usage,
            cost_usd=cost(call.model, usage),
            latency_seconds=time.perf_counter() - call.started,
            retries=max(self._counter.attempts - 1, 0),
            prompt_sha256=prompt_hash(call.request),
            iteration_id=call.iteration_id,
            attempt=call.attempt,
            price_table=PRICE_TABLE_DATE,
            prompt=self._scrubbed(call.request),
            answer=self._scrubbed(answer) if answer is not None else None,
            **fields,
        )
        if self.traces is not None:
            self.traces.append(record)
        return record

    def _scrubbed(self, value: Any) -> Any:
        return json.loads(self._redactor.scrub(json.dumps(value, ensure_ascii=False)))

    def _error(self, exc: anthropic.APIError) -> ClaudeApiError:
        attempts = max(self._counter.attempts, 1)
        scrub = self._redactor.scrub
        if isinstance(exc, anthropic.APITimeoutError):
            detail = f"no answer within {self.config.timeout_seconds:g} s"
            return ClaudeApiError(
                kind="timeout", model=self.model, attempts=attempts, detail=detail
            )
        if isinstance(exc, anthropic.APIConnectionError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "unknown"
            detail = scrub(f"{exc.message} ({cause})")
            return ClaudeApiError(
                kind="connection", model=self.model, attempts=attempts, detail=detail
            )
        if isinstance(exc, anthropic.APIStatusError):
            return ClaudeApiError(
                kind="status",
                model=self.model,
                attempts=attempts,
                detail=scrub(exc.api_message or exc.message),
                status_code=exc.status_code,
                error_type=exc.type,
                request_id=exc.request_id,
            )
        return ClaudeApiError(
            kind="invalid-response", model=self.model, attempts=attempts, detail=scrub(exc.message)
        )


def _tool_calls(content: tuple[dict[str, Any], ...]) -> list[ToolCall]:
    return [
        ToolCall(block["id"], block["name"], dict(block.get("input") or {}))
        for block in content
        if block.get("type") == "tool_use"
    ]
