"""The data of the solve → validate → review loop: a failure, a review, an attempt, the result.

Plain frozen dataclasses at the bottom of the LLM layer, so that the errors
(``ReviewLoopExhausted`` carries the attempts) and the reviewer above can both
use them.

>>> Failure("test", "assert 0.4 > 0.9").to_prompt()
'Failure (test) in the solution: assert 0.4 > 0.9'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

S = TypeVar("S")
FixKind = Literal["code", "plan_change", "none"]


def compact(value: Any, limit: int = 20_000) -> str:
    """JSON of ``value``, cut at ``limit`` characters (results so far can be long)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " ...[cut]"


@dataclass(frozen=True)
class Failure:
    """What went wrong: ``kind`` (exception, test, cell, timeout, validation), the message, context."""

    kind: str
    message: str
    traceback: str = ""
    target: str | None = None
    code: str | None = None
    results: tuple[dict[str, Any], ...] = ()

    def to_prompt(self) -> str:
        parts = [f"Failure ({self.kind}) in {self.target or 'the solution'}: {self.message}"]
        if self.traceback:
            parts.append(f"Traceback:\n{self.traceback[-8_000:]}")
        if self.code:
            parts.append(f"The failing code:\n{self.code}")
        if self.results:
            parts.append(f"Results so far: {compact(list(self.results))}")
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Review:
    """A diagnosis and one proposed fix."""

    diagnosis: str
    fix_kind: FixKind
    explanation: str = ""
    target: str | None = None
    code: str | None = None
    plan_change: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Review:
        fix = data["fix"]
        return cls(
            diagnosis=data["diagnosis"],
            fix_kind=fix["kind"],
            explanation=fix.get("explanation", ""),
            target=fix.get("target"),
            code=fix.get("code"),
            plan_change=fix.get("plan_change"),
        )


@dataclass(frozen=True)
class Attempt(Generic[S]):
    """One pass of the loop: the solution tried, its failure (None: valid), the review it got."""

    number: int
    solution: S
    failure: Failure | None = None
    review: Review | None = None


@dataclass(frozen=True)
class LoopResult(Generic[S]):
    """The valid solution and every attempt that led to it."""

    solution: S
    attempts: tuple[Attempt[S], ...] = field(default=())
