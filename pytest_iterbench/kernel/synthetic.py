"""Synthetic tasks and their reference compact plans, so that the data set needs no API call.

A task is drawn from a kind (classification, regression, clustering, time
series, text, images), a domain, a data set size and at most one constraint;
its description is one of several templates. The reference plan follows
rules a practitioner would apply: a simple baseline first, the approaches
that suit the data's size, smaller settings under a time or memory limit,
interpretable models when asked, more seeds when results must be robust,
macro F1 first when classes are imbalanced.

>>> task = synthetic_task(random.Random(0))
>>> task.reference.kind in KINDS
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pytest_iterbench.kernel.catalogue import APPROACHES, KINDS, Kind
from pytest_iterbench.kernel.compact import CompactPlan

Size = Literal["small", "medium", "large"]
Constraint = Literal["none", "fast", "low-memory", "interpretable", "robust", "imbalanced"]
SIZES: dict[Size, tuple[int, int]] = {
    "small": (200, 2_000),
    "medium": (5_000, 50_000),
    "large": (200_000, 5_000_000),
}
CONSTRAINTS: dict[Constraint, tuple[str, ...]] = {
    "none": ("",),
    "fast": (
        " Each model must train in under a minute on a laptop.",
        " Keep training time short: we have a tight compute budget.",
    ),
    "low-memory": (
        " The machine has only 2 GB of RAM.",
        " Memory is limited, so keep models small.",
    ),
    "interpretable": (
        " The model must be explainable to non-experts.",
        " Stakeholders need an interpretable model.",
    ),
    "robust": (
        " Results must be robust: compare over several random seeds.",
        " Report variance across seeds, not one lucky run.",
    ),
    "imbalanced": (
        " The classes are highly imbalanced (about 3% positives).",
        " Rare classes matter most.",
    ),
}
TEMPLATES: dict[Kind, tuple[str, ...]] = {
    "classification": (
        "Predict whether a {who} will {what} from {n} rows of tabular data.",
        "Classify {who} records into {what} categories; the data set has {n} samples.",
        "Build a classifier that detects {what} for each {who} ({n} labelled examples).",
    ),
    "regression": (
        "Predict the {what} of a {who} from {n} rows of tabular features.",
        "Estimate {what} for each {who}; {n} examples with numeric target.",
        "Regression task: forecast the {what} of {who}s given {n} historical records.",
    ),
    "clustering": (
        "Group {n} {who}s into segments by their {what}, without labels.",
        "Find natural clusters among {n} unlabelled {who} profiles ({what}).",
        "Segment {who}s by {what}; no ground truth labels, {n} points.",
    ),
    "timeseries": (
        "Forecast next week's {what} for a {who} from {n} daily observations.",
        "Time series: predict future {what} of the {who} ({n} time steps of history).",
        "Forecast hourly {what} of a {who}; the series has {n} points.",
    ),
    "text": (
        "Classify {who} reviews by {what} ({n} short texts).",
        "Detect {what} in {n} {who} messages written in English.",
        "Sort {n} {who} support tickets by {what} using their text.",
    ),
    "images": (
        "Recognise {what} in {n} photos of {who}s.",
        "Classify {n} grayscale images of {who}s by {what}.",
        "Image classification: label {who} pictures by {what} ({n} images).",
    ),
}
DOMAINS: dict[Kind, tuple[tuple[str, str], ...]] = {
    "classification": (
        ("customer", "churn"),
        ("patient", "diabetes"),
        ("loan", "default"),
        ("email", "spam"),
    ),
    "regression": (
        ("house", "price"),
        ("car", "fuel consumption"),
        ("employee", "salary"),
        ("flight", "delay"),
    ),
    "clustering": (
        ("customer", "purchase habits"),
        ("song", "audio features"),
        ("city", "climate"),
        ("user", "browsing behaviour"),
    ),
    "timeseries": (
        ("store", "sales"),
        ("power plant", "energy demand"),
        ("website", "traffic"),
        ("weather station", "temperature"),
    ),
    "text": (
        ("product", "sentiment"),
        ("customer", "topic"),
        ("forum", "toxicity"),
        ("news", "category"),
    ),
    "images": (
        ("handwritten digit", "digit"),
        ("plant leaf", "disease"),
        ("clothing item", "type"),
        ("traffic sign", "sign class"),
    ),
}


@dataclass(frozen=True)
class SyntheticTask:
    """One generated task: its description and the reference plan a practitioner would write."""

    description: str
    kind: Kind
    size: Size
    constraint: Constraint
    reference: CompactPlan


def synthetic_task(rng: random.Random) -> SyntheticTask:
    """One task drawn with ``rng`` (reproducible for a seeded ``rng``)."""
    kind = rng.choice(KINDS)
    size: Size = rng.choice(("small", "medium", "large"))
    constraints = [
        c for c in CONSTRAINTS if c != "imbalanced" or kind in ("classification", "text")
    ]
    constraint: Constraint = rng.choice(constraints)
    who, what = rng.choice(DOMAINS[kind])
    n = f"{rng.randint(*SIZES[size]):,}"
    text = rng.choice(TEMPLATES[kind]).format(who=who, what=what, n=n)
    description = text + rng.choice(CONSTRAINTS[constraint])
    return SyntheticTask(
        description, kind, size, constraint, reference_plan(kind, size, constraint)
    )


# Per kind and size: the approaches to try, baseline first.
_BY_SIZE: dict[Kind, dict[Size, tuple[str, ...]]] = {
    "classification": {
        "small": ("logreg", "knn", "svm", "random_forest"),
        "medium": ("logreg", "random_forest", "gboost", "mlp"),
        "large": ("logreg", "gboost", "mlp"),
    },
    "regression": {
        "small": ("ridge", "knn", "random_forest"),
        "medium": ("ridge", "random_forest", "gboost", "mlp"),
        "large": ("ridge", "gboost", "mlp"),
    },
    "clustering": {
        "small": ("kmeans", "agglomerative", "gmm"),
        "medium": ("kmeans", "gmm", "dbscan"),
        "large": ("kmeans", "dbscan"),
    },
    "timeseries": {
        "small": ("naive", "exp_smoothing", "arima"),
        "medium": ("naive", "arima", "gboost_lags"),
        "large": ("naive", "gboost_lags", "lstm"),
    },
    "text": {
        "small": ("naive_bayes", "tfidf_logreg", "tfidf_svm"),
        "medium": ("tfidf_logreg", "tfidf_svm", "embeddings_mlp"),
        "large": ("tfidf_logreg", "embeddings_mlp", "small_transformer"),
    },
    "images": {
        "small": ("pixels_logreg", "hog_svm", "random_forest"),
        "medium": ("pixels_logreg", "small_cnn", "pretrained_cnn"),
        "large": ("pixels_logreg", "small_cnn", "pretrained_cnn"),
    },
}
_HEAVY = frozenset(
    {"mlp", "svm", "lstm", "small_transformer", "pretrained_cnn", "small_cnn", "gboost"}
)
_OPAQUE = _HEAVY | {"knn", "embeddings_mlp", "dbscan", "hog_svm", "tfidf_svm"}
_QUALITY: dict[Kind, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro"),
    "regression": ("rmse", "r2"),
    "clustering": ("silhouette", "davies_bouldin"),
    "timeseries": ("mae", "rmse"),
    "text": ("accuracy", "f1_macro"),
    "images": ("accuracy", "f1_macro"),
}


def reference_plan(kind: Kind, size: Size, constraint: Constraint) -> CompactPlan:
    """The plan the rules above give for a task of this kind, size and constraint."""
    names = list(_BY_SIZE[kind][size])
    if constraint in ("fast", "low-memory"):
        names = [names[0]] + [n for n in names[1:] if n not in _HEAVY]
    if constraint == "interpretable":
        names = [names[0]] + [n for n in names[1:] if n not in _OPAQUE]
    if len(names) < 2:
        names = list(dict.fromkeys(names + list(_BY_SIZE[kind]["small"])))[:2]
    order = [a.name for a in APPROACHES[kind]]
    approaches = tuple(sorted(set(names), key=order.index))
    return CompactPlan(
        kind,
        approaches,
        _sizes(size, constraint),
        _metrics(kind, size, constraint),
        _repeats(size, constraint),
    )


def _sizes(size: Size, constraint: Constraint) -> tuple[str, ...]:
    """The setting of every approach; a larger tuned variant when nothing limits it."""
    if constraint in ("fast", "low-memory"):
        return ("s",)
    variant = {"small": "s", "medium": "m", "large": "l"}[size]
    return (
        (variant, "ml"["sm".index(variant)])
        if constraint == "none" and variant != "l"
        else (variant,)
    )


def _metrics(kind: Kind, size: Size, constraint: Constraint) -> tuple[str, ...]:
    quality = ("f1_macro", "roc_auc") if constraint == "imbalanced" else _QUALITY[kind]
    memory = constraint == "low-memory" or size == "large"
    return (*quality, "execution_time", *(("peak_memory",) if memory else ()))


def _repeats(size: Size, constraint: Constraint) -> int:
    return 5 if constraint == "robust" else (1 if size == "large" else 3)
