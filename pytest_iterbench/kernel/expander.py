"""The expander: a compact plan in, the full ``plan.json`` document out, deterministically.

Everything a practitioner would write by hand follows from the compact plan
and the catalogue: ids that are new in the workspace, folders that do not
exist yet, parameters with a fixed seed, lineage (a second variant of an
approach derives from the first), metric entries (or the workspace's own
entry of that id), and one run over all of it. The ids and folders are
chosen against the workspace so that the shared validator
(:func:`~pytest_iterbench.llm.plan.plan_problems`) accepts the result.

>>> expand(compact, task, Existing.read(root), Stamp("kernel", "smollm2", now))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pytest_iterbench.kernel.catalogue import Approach, MetricSpec, approach, metric
from pytest_iterbench.kernel.compact import CompactPlan
from pytest_iterbench.llm.plan import Existing, PlannerMode
from pytest_iterbench.llm.tasks import PlanTask


@dataclass(frozen=True)
class Stamp:
    """Who wrote the plan and when: the plan's metadata fields."""

    planner: PlannerMode
    model: str | None
    created_at: str


def expand(
    compact: CompactPlan, task: PlanTask, existing: Existing, stamp: Stamp
) -> dict[str, Any]:
    """The plan document for ``compact``, checked-by-construction against ``existing``."""
    iterations = _iterations(compact, existing)
    metrics, metric_ids = _metrics(compact, existing)
    run = _run(compact, existing, [it["id"] for it in iterations], metric_ids)
    return {
        "$schema": "schemas/plan-schema.json",
        "plan_version": 1,
        "description": task.description,
        "source": task.source,
        "planner": stamp.planner,
        "model": stamp.model,
        "created_at": stamp.created_at,
        "rationale": rationale(compact),
        "iterations": iterations,
        "metrics": metrics,
        "runs": [run],
    }


def _iterations(compact: CompactPlan, existing: Existing) -> list[dict[str, Any]]:
    """One iteration per approach at the plan's size; a tuned child of the last at the second."""
    taken = {entry["id"] for entry in existing.entries("iterations")}
    planned = [
        _planned(compact, name, compact.size[0], None, taken, existing)
        for name in compact.approaches
    ]
    if len(compact.size) == 2:
        last = planned[-1]
        planned.append(
            _planned(compact, compact.approaches[-1], compact.size[1], last["id"], taken, existing)
        )
    return planned


def _planned(
    compact: CompactPlan,
    name: str,
    variant: str,
    parent: str | None,
    taken: set[str],
    existing: Existing,
) -> dict[str, Any]:
    iteration_id = _free_id(f"{name.replace('_', '-')}-{variant}", taken, existing)
    taken.add(iteration_id)
    return _iteration(approach(compact.kind, name), variant, iteration_id, parent, compact)


def _free_id(base: str, taken: set[str], existing: Existing) -> str:
    """``base``, or ``base-2``, ``base-3``...: the first id unused with no file at its folder."""
    candidate, n = base, 1
    while candidate in taken or os.path.lexists(existing.root / _folder(candidate)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _folder(iteration_id: str) -> str:
    return f"iterations/{iteration_id.replace('-', '_')}"


def _iteration(
    chosen: Approach, variant: str, iteration_id: str, parent: str | None, compact: CompactPlan
) -> dict[str, Any]:
    size = {"s": "small", "m": "medium", "l": "large"}[variant]
    return {
        "id": iteration_id,
        "name": f"{chosen.title} ({size})",
        "description": f"{chosen.title} for this {compact.kind} task, {size} setting.",
        "approach": chosen.family,
        "source_path": _folder(iteration_id),
        "entry_point": "main.py",
        "parameters": {**chosen.variants[variant], "seed": 0},
        "parent": parent,
        "tags": ["kernel", compact.kind],
    }


def _metrics(compact: CompactPlan, existing: Existing) -> tuple[list[dict[str, Any]], list[str]]:
    held = {entry["id"] for entry in existing.entries("metrics")}
    ids = list(compact.metrics)
    return [_metric(metric(compact.kind, m)) for m in ids if m not in held], ids


def _metric(spec: MetricSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "description": f"{spec.name} of each iteration.",
        "type": spec.type,
        "higher_is_better": spec.higher_is_better,
        "unit": spec.unit,
    }
    if spec.class_path is None:
        entry["description"] += (
            f" No metric class fits: a metric test (@pytest.mark.metric({spec.id!r})) measures it."
        )
    else:
        entry["class"] = spec.class_path
    return entry


def _run(
    compact: CompactPlan, existing: Existing, iteration_ids: list[str], metric_ids: list[str]
) -> dict[str, Any]:
    taken = {entry["id"] for entry in existing.entries("runs")}
    n = 1
    while f"kernel-run-{n}" in taken:
        n += 1
    run: dict[str, Any] = {
        "id": f"kernel-run-{n}",
        "name": f"Compare {len(iteration_ids)} {compact.kind} iterations",
        "description": "Every planned iteration on every planned metric.",
        "iteration_ids": iteration_ids,
        "metric_ids": metric_ids,
    }
    if compact.repeats > 1:
        run["repeats"] = compact.repeats
        run["seeds"] = list(range(compact.repeats))
    return run


def rationale(compact: CompactPlan) -> str:
    """A few sentences saying why, written from the compact plan's choices."""
    titles = [approach(compact.kind, name).title for name in compact.approaches]
    first, rest = titles[0], titles[1:]
    size = {"s": "small", "m": "medium", "l": "large"}
    text = f"Read as a {compact.kind} task. {first} is the baseline"
    text += f"; then {', '.join(rest)}" if rest else ""
    text += f", all at {size[compact.size[0]]} settings."
    if len(compact.size) == 2:
        text += f" {titles[-1]} is tuned further at {size[compact.size[1]]} settings."
    text += f" Compared on {', '.join(compact.metrics)}"
    return text + (f", over {compact.repeats} seeds." if compact.repeats > 1 else ", one seed.")
