"""Reading a free-form plan back into the catalogue's terms: approaches, metrics, kind.

Used to score any planner's plan (:mod:`~pytest_iterbench.kernel.score`) and
to turn the Claude planner's traced plans into compact training targets
(:func:`compress`). Names are matched on the catalogue's own names (``_`` or
``-``) and a few synonyms (``logistic`` is ``logreg``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from typing import Any

from pytest_iterbench.kernel.catalogue import (
    APPROACHES,
    COST_METRICS,
    KINDS,
    QUALITY_METRICS,
    REPEATS,
    VARIANTS,
    Kind,
)
from pytest_iterbench.kernel.compact import CompactPlan

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


def _words(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.lower())


def iteration_names(iteration: dict[str, Any]) -> set[str]:
    text = _words(
        " ".join(str(iteration.get(k, "")) for k in ("id", "name", "approach", "description"))
    )
    catalogue = {a.name for kind in KINDS for a in APPROACHES[kind]}
    found = {name for name in catalogue if name.replace("_", "-") in text}
    found |= {target for word, target in SYNONYMS.items() if word in text and target in catalogue}
    return found


def metric_names(document: dict[str, Any]) -> set[str]:
    ids = {m for run in document["runs"] for m in run["metric_ids"]} | {
        m["id"] for m in document["metrics"]
    }
    text = _words(" ".join(ids))
    known = {m.id for kind in KINDS for m in QUALITY_METRICS[kind]} | {m.id for m in COST_METRICS}
    found = {m for m in known if m.replace("_", "-") in text or m in ids}
    return found | {t for w, t in SYNONYMS.items() if w in text and t in known}


def plan_tags(document: dict[str, Any]) -> set[str]:
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


def compress(answer: dict[str, Any]) -> CompactPlan | None:
    """The compact plan closest to a full plan's answer, or None when its kind is unclear."""
    names = (
        set().union(*(iteration_names(it) for it in answer.get("iterations") or []))
        if answer.get("iterations")
        else set()
    )
    metrics = metric_names(
        {"runs": answer.get("runs") or [], "metrics": answer.get("metrics") or []}
    )
    kind = infer_kind(names, metrics, plan_tags({"iterations": answer.get("iterations") or []}))
    if kind is None:
        return None
    approaches = tuple(a.name for a in APPROACHES[kind] if a.name in names)
    ordered = [m.id for m in QUALITY_METRICS[kind] + COST_METRICS]
    chosen = tuple(m for m in ordered if m in metrics)
    if not approaches or not chosen or chosen[0] not in {m.id for m in QUALITY_METRICS[kind]}:
        return None
    repeats = max((int(r.get("repeats") or 1) for r in answer.get("runs") or []), default=1)
    repeats = min(REPEATS, key=lambda allowed: abs(allowed - repeats))
    return CompactPlan(kind, approaches, (VARIANTS[1],), chosen, repeats)
