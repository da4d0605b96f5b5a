"""Scoring planners on held-out tasks: the Sullivan score, latency and cost side by side.

Every planner plans each held-out task in the same empty workspace; its plan
is scored against the task's reference plan. A planner that raises (an API
error, a plan refused after repair) scores 0 on that task.

>>> table = evaluate(heldout, {"kernel": kernel, "baseline": BaselinePlanner()}, root)  # doctest: +SKIP
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.kernel.compact import parse_compact
from pytest_iterbench.kernel.dataset import Example
from pytest_iterbench.kernel.score import sullivan_score
from pytest_iterbench.llm.plan import Existing, Plan
from pytest_iterbench.llm.tasks import PlanTask


class AnyPlanner(Protocol):
    def plan(self, task: PlanTask, workspace: Path) -> Plan: ...


@dataclass
class PlannerScores:
    """One planner's results over the held-out tasks."""

    name: str
    scores: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    failures: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "planner": self.name,
            "tasks": len(self.scores),
            "sullivan": round(statistics.fmean(self.scores), 4) if self.scores else None,
            "failures": self.failures,
            "median_seconds": round(statistics.median(self.seconds), 3) if self.seconds else None,
            "mean_cost_usd": round(statistics.fmean(self.costs), 8) if self.costs else None,
        }


def evaluate(
    heldout: Sequence[Example], planners: Mapping[str, AnyPlanner], root: Path
) -> list[PlannerScores]:
    """Each planner's Sullivan score (and time, cost) on every held-out example."""
    existing = Existing.read(root)
    results = []
    for name, planner in planners.items():
        scores = PlannerScores(name)
        for example in heldout:
            reference = parse_compact(example.completion)
            start = time.perf_counter()
            try:
                plan = planner.plan(PlanTask.from_description(example.prompt), root)
            except IterbenchError:
                scores.failures += 1
                scores.scores.append(0.0)
                continue
            scores.seconds.append(time.perf_counter() - start)
            scores.costs.append(float((plan.cost or {}).get("cost_usd") or 0.0))
            scores.scores.append(sullivan_score(plan.to_json(), reference, existing).total)
        results.append(scores)
    return results


def render(results: Sequence[PlannerScores]) -> str:
    """A Markdown table of the results, then the kernel's ratio to the API (or the baseline)."""
    lines = [
        "| planner | tasks | Sullivan score | failures | median s/plan | mean $/plan |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in (r.to_json() for r in results):
        lines.append(
            f"| {row['planner']} | {row['tasks']} | {row['sullivan']} | {row['failures']} "
            f"| {row['median_seconds']} | {row['mean_cost_usd']} |"
        )
    by_name = {r.name: r.to_json()["sullivan"] for r in results}
    kernel = by_name.get("kernel")
    for other in ("claude-api", "baseline"):
        if kernel is not None and by_name.get(other):
            lines.append(f"\nratio kernel / {other}: {kernel / by_name[other]:.3f}")
    return "\n".join(lines) + "\n"
