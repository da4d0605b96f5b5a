"""The Sullivan score: how close a plan comes to a reference plan, in [0, 1].

Any planner's ``plan.json`` is scored the same way (the kernel's, the
baseline's, the Claude API's): an invalid plan scores 0; a valid one earns

| part | weight | what |
| --- | --- | --- |
| kind | 0.25 | the task's kind read from the plan's metrics and approaches |
| approaches | 0.30 | share of the reference's approaches the plan tries |
| metrics | 0.20 | overlap of quality metrics with the reference's, cost measured |
| parameters | 0.10 | share of iterations with a seed and values in the catalogue's range |
| runs | 0.15 | share of planned iterations some run executes, with a quality metric |

Approaches and metrics of a free-form plan are recognised by the catalogue's
names and a few synonyms (``logistic`` is ``logreg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_iterbench.kernel.catalogue import APPROACHES, COST_METRICS, QUALITY_METRICS, Kind
from pytest_iterbench.kernel.compact import CompactPlan
from pytest_iterbench.kernel.recognise import infer_kind, iteration_names, metric_names, plan_tags
from pytest_iterbench.llm.plan import Existing, plan_problems

WEIGHTS = {"kind": 0.25, "approaches": 0.30, "metrics": 0.20, "parameters": 0.10, "runs": 0.15}


@dataclass(frozen=True)
class SullivanScore:
    """The score and its parts (each part in [0, 1], before weighting)."""

    total: float
    parts: dict[str, float]
    valid: bool

    def to_json(self) -> dict[str, Any]:
        return {"total": round(self.total, 4), "valid": self.valid, "parts": self.parts}


def sullivan_score(document: Any, reference: CompactPlan, existing: Existing) -> SullivanScore:
    """Score the plan ``document`` against ``reference`` (0 when the validator refuses it)."""
    if plan_problems(document, existing):
        return SullivanScore(0.0, dict.fromkeys(WEIGHTS, 0.0), False)
    names = [iteration_names(it) for it in document["iterations"]]
    approaches = {name for found in names for name in found}
    metrics = metric_names(document)
    parts = {
        "kind": float(infer_kind(approaches, metrics, plan_tags(document)) == reference.kind),
        "approaches": _share(set(reference.approaches), approaches),
        "metrics": _metric_fit(reference, metrics),
        "parameters": _parameters(document["iterations"], names, reference.kind),
        "runs": _runs(document, reference.kind),
    }
    total = sum(WEIGHTS[key] * value for key, value in parts.items())
    return SullivanScore(total, {k: round(v, 4) for k, v in parts.items()}, True)


def _share(wanted: set[str], found: set[str]) -> float:
    return len(wanted & found) / len(wanted) if wanted else 1.0


def _metric_fit(reference: CompactPlan, metrics: set[str]) -> float:
    quality = {m.id for m in QUALITY_METRICS[reference.kind]}
    wanted = set(reference.metrics) & quality
    union = (metrics & quality) | wanted
    overlap = len(wanted & metrics) / len(union) if union else 0.0
    return 0.8 * overlap + 0.2 * float(bool(metrics & {m.id for m in COST_METRICS}))


def _parameters(iterations: list[dict[str, Any]], names: list[set[str]], kind: Kind) -> float:
    if not iterations:
        return 0.0
    good = sum(
        _sensible(it.get("parameters") or {}, found, kind)
        for it, found in zip(iterations, names, strict=True)
    )
    return good / len(iterations)


def _sensible(parameters: dict[str, Any], found: set[str], kind: Kind) -> bool:
    if "seed" not in parameters and "random_state" not in parameters:
        return False
    for chosen in (a for a in APPROACHES[kind] if a.name in found):
        key = next(iter(chosen.variants["s"]))
        value = parameters.get(key)
        low, high = chosen.variants["s"][key], chosen.variants["l"][key]
        if isinstance(value, int | float) and not low / 3 <= value <= high * 3:
            return False
    return True


def _runs(document: dict[str, Any], kind: Kind) -> float:
    planned = {it["id"] for it in document["iterations"]}
    quality = {m.id for m in QUALITY_METRICS[kind]}
    covered = {
        i
        for run in document["runs"]
        if quality & set(run["metric_ids"]) or not quality
        for i in run["iteration_ids"]
    }
    return len(planned & covered) / len(planned) if planned else 0.0
