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

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pytest_iterbench.kernel.catalogue import APPROACHES, COST_METRICS, KINDS, QUALITY_METRICS, Kind
from pytest_iterbench.kernel.compact import CompactPlan
from pytest_iterbench.llm.plan import Existing, plan_problems

WEIGHTS = {"kind": 0.25, "approaches": 0.30, "metrics": 0.20, "parameters": 0.10, "runs": 0.15}
SYNONYMS = {
    "logistic": "logreg",
    "linear-svm": "tfidf_svm",
    "xgboost": "gboost",
    "lightgbm": "gboost",
    "gradient-boosting": "gboost",
    "hist-gradient": "gboost",
    "k-nearest": "knn",
    "neighbo": "knn",
    "random-forest": "random_forest",
    "forest": "random_forest",
    "k-means": "kmeans",
    "gaussian-mixture": "gmm",
    "hierarchical": "agglomerative",
    "perceptron": "mlp",
    "neural": "mlp",
    "bayes": "naive_bayes",
    "tf-idf": "tfidf_logreg",
    "tfidf": "tfidf_logreg",
    "cnn": "small_cnn",
    "convolution": "small_cnn",
    "transformer": "small_transformer",
    "bert": "small_transformer",
    "holt": "exp_smoothing",
    "exponential": "exp_smoothing",
    "lstm": "lstm",
    "arima": "arima",
    "naive": "naive",
    "ridge": "ridge",
    "lasso": "lasso",
    "svm": "svm",
    "svc": "svm",
    "dbscan": "dbscan",
    "f1": "f1_macro",
    "auc": "roc_auc",
    "silhouette": "silhouette",
    "mean-absolute-percentage": "mape",
}


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
    names = [_names(it) for it in document["iterations"]]
    approaches = {name for found in names for name in found}
    metrics = _metric_names(document)
    parts = {
        "kind": float(infer_kind(approaches, metrics, _tags(document)) == reference.kind),
        "approaches": _share(set(reference.approaches), approaches),
        "metrics": _metric_fit(reference, metrics),
        "parameters": _parameters(document["iterations"], names, reference.kind),
        "runs": _runs(document, reference.kind),
    }
    total = sum(WEIGHTS[key] * value for key, value in parts.items())
    return SullivanScore(total, {k: round(v, 4) for k, v in parts.items()}, True)


def _words(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.lower())


def _names(iteration: dict[str, Any]) -> set[str]:
    text = _words(
        " ".join(str(iteration.get(k, "")) for k in ("id", "name", "approach", "description"))
    )
    catalogue = {a.name for kind in KINDS for a in APPROACHES[kind]}
    found = {name for name in catalogue if name.replace("_", "-") in text}
    found |= {target for word, target in SYNONYMS.items() if word in text and target in catalogue}
    return found


def _metric_names(document: dict[str, Any]) -> set[str]:
    ids = {m for run in document["runs"] for m in run["metric_ids"]} | {
        m["id"] for m in document["metrics"]
    }
    text = _words(" ".join(ids))
    known = {m.id for kind in KINDS for m in QUALITY_METRICS[kind]} | {m.id for m in COST_METRICS}
    found = {m for m in known if m.replace("_", "-") in text or m in ids}
    return found | {t for w, t in SYNONYMS.items() if w in text and t in known}


def _tags(document: dict[str, Any]) -> set[str]:
    return {str(tag).lower() for it in document["iterations"] for tag in it.get("tags") or []}


def infer_kind(approaches: set[str], metrics: set[str], tags: Collection[str] = ()) -> Kind | None:
    """The kind named by the iterations' tags, else the one whose catalogue holds most of the plan."""
    votes: Counter[Kind] = Counter()
    for kind in KINDS:
        votes[kind] += 5 * (kind in tags)
        votes[kind] += 2 * len(approaches & {a.name for a in APPROACHES[kind]})
        votes[kind] += len(metrics & {m.id for m in QUALITY_METRICS[kind]})
    ranked = votes.most_common(2)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


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
