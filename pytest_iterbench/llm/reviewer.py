"""The reviewer, and the bounded solve → validate → review loop that uses it.

``ClaudeReviewer.review(failure)`` returns a diagnosis and one proposed fix:
new code for an answer region or an iteration, a plan change, or none.
``review_loop`` is generic: the notebook processor (its own issue) passes its
solve and validate callables; tests pass fakes.

>>> result = review_loop(solve, validate, review, max_attempts=3)  # doctest: +SKIP
>>> result.solution, len(result.attempts)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import jsonschema

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import ModelAnswerInvalid, ReviewLoopExhausted
from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.prompts import REVIEW_TOOL, REVIEWER_SYSTEM
from pytest_iterbench.llm.review_types import Attempt, Failure, FixKind, LoopResult, Review
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured

S = TypeVar("S")

# The loop's data types live below the errors (``ReviewLoopExhausted`` carries
# them); they stay importable from here, where they were first documented.
__all__ = [
    "REVIEW_SCHEMA",
    "Attempt",
    "ClaudeReviewer",
    "Failure",
    "FixKind",
    "LoopResult",
    "Review",
    "review_loop",
]

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["diagnosis", "fix"],
    "additionalProperties": False,
    "properties": {
        "diagnosis": {"type": "string", "minLength": 1},
        "fix": {
            "type": "object",
            "required": ["kind", "explanation"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["code", "plan_change", "none"]},
                "target": {
                    "type": "string",
                    "description": "The answer region, cell or iteration the code replaces.",
                },
                "code": {
                    "type": "string",
                    "description": "The complete replacement code (kind code).",
                },
                "plan_change": {
                    "type": "object",
                    "description": "Changed plan entries (kind plan_change).",
                },
                "explanation": {"type": "string"},
            },
        },
    },
}


def _review_problems(data: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(REVIEW_SCHEMA)
    problems = [
        Problem(REVIEW_TOOL, ".".join(map(str, e.absolute_path)), e.message)
        for e in validator.iter_errors(data)
    ]
    fix = data["fix"] if not problems else {}
    if fix.get("kind") == "code" and not fix.get("code"):
        problems.append(Problem(REVIEW_TOOL, "fix.code", "a fix of kind 'code' needs the code"))
    return problems


class ClaudeReviewer:
    """Asks a model for a diagnosis and a fix; one repair round on an invalid answer."""

    def __init__(self, sender: MessageSender, *, repair_rounds: int = 1) -> None:
        self.sender = sender
        self.repair_rounds = repair_rounds

    def review(
        self, failure: Failure, *, iteration_id: str | None = None, attempt: int | None = None
    ) -> Review:
        tool = Tool(REVIEW_TOOL, "Submit the diagnosis and one proposed fix.", REVIEW_SCHEMA)
        ask = Ask(self.sender, "reviewer", tool, _review_problems, self.repair_rounds, iteration_id)
        result = ask_structured(ask, REVIEWER_SYSTEM, failure.to_prompt(), attempt)
        if not result.ok or result.data is None:
            found = "; ".join(str(p) for p in result.problems)
            raise ModelAnswerInvalid("reviewer", "a valid submit_review call", found)
        return Review.from_json(result.data)


def review_loop(
    solve: Callable[[int, Review | None], S],
    validate: Callable[[S], Failure | None],
    review: Callable[[int, Failure], Review],
    *,
    max_attempts: int,
    on_attempt: Callable[[Attempt[S]], None] | None = None,
) -> LoopResult[S]:
    """Solve, validate, review, solve again with the review: at most ``max_attempts`` solutions.

    ``solve(n, review)`` gets the attempt number and the previous attempt's
    review (None at first); ``validate`` returns None for a valid solution.
    ``on_attempt`` sees every attempt as it completes (for a trace or a log).
    Raises ``ReviewLoopExhausted``, with every attempt, when none is valid.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, found {max_attempts}")
    attempts: list[Attempt[S]] = []
    previous: Review | None = None
    for number in range(1, max_attempts + 1):
        solution = solve(number, previous)
        failure = validate(solution)
        last = number == max_attempts
        previous = review(number, failure) if failure is not None and not last else None
        attempts.append(Attempt(number, solution, failure, previous))
        if on_attempt is not None:
            on_attempt(attempts[-1])
        if failure is None:
            return LoopResult(solution, tuple(attempts))
    assert failure is not None  # the loop returns on the first valid solution
    raise ReviewLoopExhausted(max_attempts, attempts, failure)
