"""Structured answers with one repair round: ask, check, show the model its errors, ask again.

The model answers by calling a tool whose ``input_schema`` describes the
object wanted (tool choice stays ``auto``: recent models refuse a forced tool
choice), or, failing that, with a JSON object as text. ``check`` turns the
object into problems; with problems left after ``1 + repair_rounds`` answers
the caller gets them back and decides how to fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import ModelAnswerInvalid
from pytest_iterbench.llm.messages import (
    LlmRequest,
    LlmResponse,
    MessageSender,
    follow_up,
    structured_answer,
)
from pytest_iterbench.llm.traces import Role

Check = Callable[[dict[str, Any]], list[Problem]]


@dataclass(frozen=True)
class Tool:
    """A tool the model answers through."""

    name: str
    description: str
    input_schema: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


@dataclass(frozen=True)
class StructuredResult:
    """The last answer's object (``None`` when there was none), its problems, every response."""

    data: dict[str, Any] | None
    problems: tuple[Problem, ...]
    responses: tuple[LlmResponse, ...]

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.problems


@dataclass(frozen=True)
class Ask:
    """How to ask: who answers, in which role, through which tool, checked how."""

    sender: MessageSender
    role: Role
    tool: Tool
    check: Check
    repair_rounds: int = 1
    iteration_id: str | None = None


def ask_structured(
    ask: Ask, system: str, user: str | list[dict[str, Any]], attempt: int | None = None
) -> StructuredResult:
    """Send the request; on problems, send them back up to ``repair_rounds`` times.

    ``user`` is a text, or content blocks (text and image blocks).
    """
    request = LlmRequest(
        system=system,
        messages=({"role": "user", "content": user},),
        tools=(ask.tool.to_json(),),
    )
    responses: list[LlmResponse] = []
    while True:
        response = ask.sender.send(
            request, role=ask.role, iteration_id=ask.iteration_id, attempt=attempt
        )
        responses.append(response)
        data, problems = _checked(ask, response)
        if not problems or len(responses) > ask.repair_rounds:
            return StructuredResult(data, tuple(problems), tuple(responses))
        turns = follow_up(response, repair_message(ask.tool.name, problems))
        request = replace(request, messages=(*request.messages, *turns))


def _checked(ask: Ask, response: LlmResponse) -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        data = structured_answer(response, ask.tool.name, ask.role).data
    except ModelAnswerInvalid as exc:
        return None, [Problem(ask.tool.name, "", str(exc))]
    return data, ask.check(data)


def repair_message(tool_name: str, problems: list[Problem]) -> str:
    """What the model reads about its invalid answer."""
    lines = "\n".join(f"- {problem}" for problem in problems)
    return (
        f"Your answer is invalid:\n{lines}\n\n"
        f"Fix every problem and call {tool_name} again with the complete corrected answer."
    )
