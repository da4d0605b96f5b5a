"""Errors and warnings of the LLM layer: each carries its data, none carries the API key.

Every message here is built from values the layer scrubbed first (see
``secrets.Redactor``); an SDK exception is never chained as ``__cause__``,
because it holds the HTTP request and so the ``Authorization`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_iterbench.errors import IterbenchError, Problem
from pytest_iterbench.llm.review_types import Attempt, Failure


class LlmError(IterbenchError):
    """Root of the LLM layer's errors."""


class ApiKeyMissing(LlmError):
    """No API key in ``--claude-api-key``, the environment or a ``.env`` file.

    ``looked_in`` lists where the layer looked, in order.
    """

    def __init__(self, looked_in: Sequence[str]) -> None:
        self.looked_in = tuple(looked_in)
        super().__init__(
            "no Claude API key: set ANTHROPIC_API_KEY, or put it in a .env file "
            f"(see .env.example); looked in: {', '.join(self.looked_in)}"
        )


class ClaudeApiError(LlmError):
    """A Messages API call failed after the SDK's retries.

    ``kind`` is ``status`` (the API answered with an error status), ``timeout``
    or ``connection``; ``status_code`` and ``error_type`` come from the answer
    when there is one; ``attempts`` counts the HTTP attempts (1 + retries).
    """

    def __init__(
        self,
        *,
        kind: str,
        model: str,
        attempts: int,
        detail: str,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.model = model
        self.attempts = attempts
        self.detail = detail
        self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id
        status = f"HTTP {status_code} {error_type or ''}".rstrip() if status_code else kind
        super().__init__(
            f"Claude API call to {model!r} failed after {attempts} attempt(s): {status}: {detail}"
        )


class PlanInvalid(LlmError):
    """A plan failed its schema or cross-reference checks; nothing was written.

    ``problems`` are the remaining problems; ``attempts`` the model answers
    tried (0 for a plan read from a file).
    """

    def __init__(self, source: str, problems: Sequence[Problem], attempts: int = 0) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.attempts = attempts
        after = f" after {attempts} model answer(s)" if attempts else ""
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid plan from {source}{after}:\n{lines}")


class PlannerUnavailable(LlmError):
    """The chosen planner mode cannot run here (for now: ``kernel``)."""

    def __init__(self, mode: str, reason: str) -> None:
        self.mode = mode
        self.reason = reason
        super().__init__(f"planner {mode!r} is not available: {reason}")


class ModelAnswerInvalid(LlmError):
    """The model's answer had no usable structured content (no tool call, no JSON)."""

    def __init__(self, role: str, expected: str, found: str) -> None:
        self.role = role
        self.expected = expected
        self.found = found
        super().__init__(f"{role} answer: expected {expected}, found {found}")


class ReviewLoopExhausted(LlmError):
    """The solve → validate → review loop did not converge in ``max_attempts`` attempts.

    ``attempts`` holds every attempt (its failure and the review it got);
    ``last_failure`` is the failure of the final attempt.
    """

    def __init__(
        self, max_attempts: int, attempts: Sequence[Attempt[Any]], last_failure: Failure
    ) -> None:
        self.max_attempts = max_attempts
        self.attempts = tuple(attempts)
        self.last_failure = last_failure
        super().__init__(
            f"no valid solution after {max_attempts} attempt(s); last failure: "
            f"{last_failure.kind}: {last_failure.message}"
        )


class UnknownModelPrice(UserWarning):
    """A model absent from the price table: its calls get no cost (``None``), never $0."""

    def __init__(self, model: str, table_date: str) -> None:
        self.model = model
        self.table_date = table_date
        super().__init__(
            f"no price for model {model!r} in the price table of {table_date}: "
            "its calls are recorded without a cost"
        )
