"""Hypothesis strategies for schema-shaped workspaces holding hostile values.

Shared by ``tests/test_faults_input.py`` (a few hundred examples) and
``benchmarks/faults/campaign.py`` (thousands). The documents have the shape the
schemas describe, but their values are the ones that crashed the harness: NaN,
infinities, ``1e400``, huge integers, lone surrogates, ids with a trailing
newline or of 300 characters, deep nesting, huge repeats and timeouts, and
source paths that leave the workspace.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

HOSTILE_NUMBERS = st.sampled_from(
    [math.nan, math.inf, -math.inf, 1e308, 10**400, 10**19, -(10**19), 0, -1, 1e-320]
)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["\ud800", "a\udcff", "v1\n", "x" * 300, "", "../..", "/", "é", "\x00"]),
    st.text(max_size=6),
)
IDS = st.one_of(st.sampled_from(["v1", "v2", "m1"]), HOSTILE_TEXT)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES = st.recursive(
    st.one_of(
        HOSTILE_NUMBERS,
        HOSTILE_TEXT,
        st.booleans(),
        st.none(),
        st.builds(_nested, st.integers(60, 70)),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=6,
)
NUMBERS = st.one_of(HOSTILE_NUMBERS, st.integers(1, 3))


@st.composite
def iterations(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": draw(IDS),
        "source_path": draw(st.sampled_from(["iterations/v1", "/", "..", ".", "iterations"])),
        "entry_point": "main.py",
        "parameters": draw(st.dictionaries(HOSTILE_TEXT, HOSTILE_VALUES, max_size=3)),
        "tags": draw(st.lists(HOSTILE_TEXT, max_size=2)),
    }
    for key in ("timeout", "repeats", "memory_limit_mb"):
        if draw(st.booleans()):
            entry[key] = draw(NUMBERS)
    return entry


@st.composite
def metrics(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(IDS),
        "class": draw(st.sampled_from(["pytest_iterbench.metrics.AccuracyMetric", "exits.Metric"])),
        "higher_is_better": True,
        "unit": draw(HOSTILE_TEXT),
        "options": draw(st.dictionaries(HOSTILE_TEXT, HOSTILE_VALUES, max_size=2)),
    }


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": draw(IDS),
        "iteration_ids": [draw(IDS)],
        "metric_ids": [draw(IDS)],
    }
    if draw(st.booleans()):
        entry["repeats"] = draw(st.one_of(NUMBERS, st.just(10**7)))
    return entry


WORKSPACES = st.fixed_dictionaries(
    {
        "iterations": st.lists(iterations(), min_size=1, max_size=2),
        "metrics": st.lists(metrics(), min_size=1, max_size=2),
        "runs": st.lists(runs(), min_size=1, max_size=2),
    }
)


def write_workspace(root: Path, documents: dict[str, list[dict[str, Any]]]) -> None:
    """Write the three files (escaped: a lone surrogate as ``\\ud800``) and the v1 source folder.

    Python's json writes ``NaN`` and ``Infinity`` and reads them back, as a
    user's own script would.
    """
    folder = root / "iterations" / "v1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text("def run(parameters):\n    return {}\n", encoding="utf-8")
    (root / "exits.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    for kind, entries in documents.items():
        (root / f"{kind}.json").write_text(json.dumps({kind: entries}), encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (``__pycache__`` aside) and its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
