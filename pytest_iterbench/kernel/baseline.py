"""The rule-based baseline planner: keywords pick the kind, the catalogue's defaults do the rest.

It ignores sizes and constraints: the floor that the kernel model has to beat
on the Sullivan score.

>>> baseline_compact("Predict house prices from 5,000 rows").kind
'regression'
"""

from __future__ import annotations

import re

from pytest_iterbench.kernel.catalogue import APPROACHES, KINDS, QUALITY_METRICS, Kind
from pytest_iterbench.kernel.compact import CompactPlan

KEYWORDS: dict[Kind, tuple[str, ...]] = {
    "timeseries": ("forecast", "time series", "daily", "hourly", "series"),
    "clustering": ("cluster", "segment", "group", "unlabelled", "without labels"),
    "text": ("text", "review", "message", "ticket", "sentiment", "document"),
    "images": ("image", "photo", "picture", "pixel", "grayscale"),
    "regression": ("regression", "price", "estimate", "salary", "predict the"),
    "classification": ("classif", "detect", "whether", "categor", "label"),
}


def guess_kind(text: str) -> Kind:
    """The kind whose keywords appear most in ``text`` (classification when none does)."""
    lowered = re.sub(r"\s+", " ", text.lower())
    counts = {kind: sum(lowered.count(word) for word in KEYWORDS[kind]) for kind in KINDS}
    best = max(KINDS, key=lambda kind: counts[kind])
    return best if counts[best] else "classification"


def baseline_compact(text: str) -> CompactPlan:
    """The first three catalogue approaches, medium settings, the kind's first two metrics."""
    kind = guess_kind(text)
    approaches = tuple(a.name for a in APPROACHES[kind][:3])
    metrics = (*tuple(m.id for m in QUALITY_METRICS[kind][:2]), "execution_time")
    return CompactPlan(kind, approaches, ("m",), metrics, 1)
