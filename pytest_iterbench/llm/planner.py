"""Planners: a task (description or notebook) in, a checked ``Plan`` out.

Three modes, the seed's ``planning_mode``: ``manual`` checks a ``plan.json``
written by a person or an interactive agent; ``claude-api`` asks Claude
(structured output through a tool, one repair round on invalid answers);
``kernel`` is the local planner model (:mod:`pytest_iterbench.kernel`),
registered by the layer above through a ``PlannerFactory``.

>>> planner = ClaudePlanner(client)  # doctest: +SKIP
>>> plan = planner.plan(PlanTask.from_description("Classify digits"), Path("."))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import PlanInvalid, PlannerUnavailable
from pytest_iterbench.llm.messages import LlmResponse, MessageSender
from pytest_iterbench.llm.plan import (
    Existing,
    Plan,
    PlannerMode,
    answer_schema,
    check_plan,
    plan_problems,
    read_plan_file,
)
from pytest_iterbench.llm.prompts import PLAN_TOOL, planner_system, planner_user
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.results.records import utc_now

PLANNER_MODES: tuple[PlannerMode, ...] = ("manual", "claude-api", "kernel")


class Planner(Protocol):
    """Turns a task into a plan checked against the workspace at ``workspace``."""

    mode: PlannerMode

    def plan(self, task: PlanTask, workspace: Path) -> Plan: ...


def plan_tool() -> Tool:
    return Tool(
        PLAN_TOOL,
        "Submit the complete plan: iterations to create, metrics, runs, and the rationale.",
        answer_schema(),
    )


class ClaudePlanner:
    """Asks a model (``ClaudeClient``) for a plan; one repair round, then ``PlanInvalid``."""

    mode: PlannerMode = "claude-api"

    def __init__(self, sender: MessageSender, *, repair_rounds: int = 1) -> None:
        self.sender = sender
        self.repair_rounds = repair_rounds

    def plan(self, task: PlanTask, workspace: Path) -> Plan:
        existing = Existing.read(workspace)
        created_at = utc_now()

        def check(answer: dict[str, Any]) -> list[Problem]:
            return plan_problems(self._document(task, answer, created_at), existing, file=PLAN_TOOL)

        ask = Ask(self.sender, "planner", plan_tool(), check, self.repair_rounds)
        result = ask_structured(ask, planner_system(), planner_user(task, existing))
        if not result.ok or result.data is None:
            raise PlanInvalid(
                f"{self.sender.model} ({self.mode})", result.problems, len(result.responses)
            )
        document = self._document(task, result.data, created_at)
        document["cost"] = plan_cost(result.responses)
        return Plan.from_json(document)

    def _document(self, task: PlanTask, answer: dict[str, Any], created_at: str) -> dict[str, Any]:
        metadata = {
            "plan_version": 1,
            "description": task.description,
            "source": task.source,
            "planner": self.mode,
            "model": self.sender.model,
            "created_at": created_at,
        }
        return {**answer, **metadata}


PlannerFactory = Callable[[Path, bool], Planner]
"""Builds a local planner for a workspace (``store_content``: trace prompts and answers).

Layers above this one (the kernel) register theirs with ``run_plan``: the LLM
layer names no local model itself.
"""


def local_planner(
    mode: str, factories: Mapping[str, PlannerFactory], workspace: Path, store_content: bool
) -> Planner:
    """The planner that ``factories`` registers for ``mode``; ``PlannerUnavailable`` without one."""
    factory = factories.get(mode)
    if factory is None:
        raise PlannerUnavailable(
            mode,
            "no local planner is registered (the kernel extra: pip install 'pytest-iterbench[kernel]'); "
            "use --planner claude-api, or write plan.json and use --planner manual",
        )
    return factory(workspace, store_content)


def load_manual_plan(path: Path, workspace: Path) -> Plan:
    """The ``manual`` mode: a plan file written by a person or an agent, checked."""
    return check_plan(read_plan_file(path), workspace, file=str(path))


def plan_cost(responses: Sequence[LlmResponse]) -> dict[str, Any]:
    """The token counts and USD cost of the calls that produced a plan (cost None if unpriced)."""
    costs = [r.cost_usd for r in responses]
    return {
        "calls": len(responses),
        "input_tokens": sum(r.usage.input_tokens for r in responses),
        "output_tokens": sum(r.usage.output_tokens for r in responses),
        "cache_creation_input_tokens": sum(r.usage.cache_creation_input_tokens for r in responses),
        "cache_read_input_tokens": sum(r.usage.cache_read_input_tokens for r in responses),
        "cost_usd": None if None in costs else round(sum(c or 0.0 for c in costs), 10),
    }
