"""Lineage: which iteration grew from which, what changed, and which one is the baseline.

Each record carries its iteration's ``iteration_parent`` and
``iteration_tags``, so the family tree of a run's iterations is rebuilt from
``results.json`` alone. It is drawn as a Mermaid graph (edges labelled with the
parameters that changed) for Markdown, and as nested lists for HTML, where no
Mermaid script can run offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BASELINE_TAG = "baseline"
#: Longest edge label in the Mermaid graph; the full changes are in the report's table.
EDGE_LABEL_LIMIT = 60
_MISSING = object()


def choose_baseline(iterations: Sequence[str], tags: Mapping[str, Sequence[str]]) -> str | None:
    """The first iteration tagged ``baseline``, else the first iteration (None for none).

    >>> choose_baseline(["v1", "v2"], {"v2": ["baseline"]}), choose_baseline(["v1", "v2"], {})
    ('v2', 'v1')
    """
    tagged = [i for i in iterations if BASELINE_TAG in tags.get(i, ())]
    return tagged[0] if tagged else (iterations[0] if iterations else None)


def _short(value: Any) -> str:
    """A parameter value as compact JSON (strings without quotes)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def parameter_changes(parent: Mapping[str, Any], child: Mapping[str, Any]) -> list[str]:
    """What differs in ``child`` from ``parent``: changed, added (+) and removed (-) parameters.

    >>> parameter_changes({"lr": 0.001, "epochs": 30, "dropout": 0.1}, {"lr": 0.01, "epochs": 30, "seed": 1})
    ['lr: 0.001 → 0.01', '+seed: 1', '-dropout: 0.1']
    """
    changes = []
    for key in child:
        before = parent.get(key, _MISSING)
        if before is _MISSING:
            changes.append(f"+{key}: {_short(child[key])}")
        elif before != child[key]:
            changes.append(f"{key}: {_short(before)} → {_short(child[key])}")
    changes += [f"-{key}: {_short(value)}" for key, value in parent.items() if key not in child]
    return changes


def mermaid_text(text: str) -> str:
    """``text`` for a quoted Mermaid label: one line, with syntax characters as entity codes.

    Mermaid reads ``#35;`` as the character 35, so quotes, brackets, pipes,
    backticks and angle brackets in a name cannot break the graph or the Markdown.

    >>> mermaid_text('a "b" | <c>')
    'a #34;b#34; #124; #60;c#62;'
    """
    flat = " ".join(text.split())
    return "".join(c if c.isalnum() or c in " ._-:+=,/()→" else f"#{ord(c)};" for c in flat)


@dataclass(frozen=True)
class LineageNode:
    """An iteration in the family tree; ``in_run`` is False for an ancestor outside the run."""

    iteration_id: str
    parent: str | None
    in_run: bool
    is_baseline: bool = False
    changes: tuple[str, ...] = ()
    children: list[LineageNode] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class Lineage:
    """The run's iterations as a forest: roots in the run's order, each with its children."""

    roots: tuple[LineageNode, ...]
    nodes: Mapping[str, LineageNode]

    def mermaid(self) -> str:
        """The forest as a Mermaid flowchart (top-down), one node per iteration."""
        names = {iteration: f"n{k}" for k, iteration in enumerate(self.nodes)}
        lines = ["graph TD"]
        for iteration, node in self.nodes.items():
            label = iteration + (" (baseline)" if node.is_baseline else "")
            label += "" if node.in_run else " (not in this run)"
            lines.append(f'    {names[iteration]}["{mermaid_text(label)}"]')
        for iteration, node in self.nodes.items():
            if node.parent is None or node.parent not in names:
                continue
            edge = _edge_label(node.changes)
            arrow = f'-->|"{mermaid_text(edge)}"|' if edge else "-->"
            lines.append(f"    {names[node.parent]} {arrow} {names[iteration]}")
        outside = [names[i] for i, node in self.nodes.items() if not node.in_run]
        if outside:
            lines.append("    classDef outside stroke-dasharray: 4 4")
            lines.append(f"    class {','.join(outside)} outside")
        return "\n".join(lines)


def _edge_label(changes: Sequence[str]) -> str:
    label = "; ".join(changes)
    return label if len(label) <= EDGE_LABEL_LIMIT else label[: EDGE_LABEL_LIMIT - 1] + "…"


def build_lineage(
    iterations: Sequence[str],
    parents: Mapping[str, str | None],
    parameters: Mapping[str, Mapping[str, Any]],
    baseline: str | None,
) -> Lineage:
    """The family tree of ``iterations``, with their ancestors outside the run.

    ``parents`` and ``parameters`` may know iterations of other runs: an ancestor
    outside the run is drawn (dashed) so the tree stays connected. A parent
    cycle, which validation rejects, is cut where it closes.
    """
    order = list(iterations)
    for iteration in iterations:
        ancestor = parents.get(iteration)
        while ancestor is not None and ancestor not in order:
            order.append(ancestor)
            ancestor = parents.get(ancestor)
    in_run = set(iterations)
    nodes = {
        i: LineageNode(
            iteration_id=i,
            parent=parents.get(i),
            in_run=i in in_run,
            is_baseline=i == baseline,
            changes=_changes(i, parents, parameters),
        )
        for i in order
    }
    roots = []
    for i in order:
        parent = nodes[i].parent
        if parent is None or parent not in nodes or _closes_cycle(i, nodes):
            roots.append(nodes[i])
        else:
            nodes[parent].children.append(nodes[i])
    return Lineage(roots=tuple(roots), nodes=nodes)


def _changes(
    iteration: str,
    parents: Mapping[str, str | None],
    parameters: Mapping[str, Mapping[str, Any]],
) -> tuple[str, ...]:
    parent = parents.get(iteration)
    if parent is None or parent not in parameters or iteration not in parameters:
        return ()
    return tuple(parameter_changes(parameters[parent], parameters[iteration]))


def _closes_cycle(iteration: str, nodes: Mapping[str, LineageNode]) -> bool:
    """Whether following parents from ``iteration`` comes back to it."""
    seen = {iteration}
    parent = nodes[iteration].parent
    while parent is not None and parent in nodes:
        if parent in seen:
            return parent == iteration
        seen.add(parent)
        parent = nodes[parent].parent
    return False
