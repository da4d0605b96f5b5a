"""The compact plan: the few decisions the kernel model writes, and their grammar.

A compact plan is five short lines; everything else in ``plan.json`` follows
from it (:mod:`~pytest_iterbench.kernel.expander`)::

    kind: classification
    approaches: logreg random_forest gboost
    size: m l
    metrics: accuracy f1_macro execution_time
    repeats: 3

``approaches`` are the catalogue's names for the kind, baseline first, in
catalogue order; ``size`` is the setting (s, m, l) of every approach, and an
optional second size asks for a tuned variant of the last approach (its child
in the lineage); ``metrics`` are the kind's quality metrics, then cost ones.

``grammar()`` is the Lark grammar (llguidance's dialect) of exactly these
texts. Each kind lists only its own approaches and metrics, each at most once
and in catalogue order, with at least one quality metric, so a constrained
model cannot write a plan that the parser or the expander refuses. Separating
names by a space makes each choice one token for a BPE vocabulary (`` gboost``),
so decoding costs about one model step per decision.

>>> text = CompactPlan("text", ("naive_bayes",), ("m",), ("accuracy",), 1).to_text()
>>> parse_compact(text).kind
'text'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from pytest_iterbench.kernel.catalogue import (
    APPROACHES,
    COST_METRICS,
    KINDS,
    QUALITY_METRICS,
    REPEATS,
    VARIANTS,
    Kind,
)


class CompactPlanError(ValueError):
    """A text that is not a compact plan (names the line, the expectation and the value)."""


@dataclass(frozen=True)
class CompactPlan:
    """The kernel's decisions: kind, approaches, size (and tuned size), metrics, repeats."""

    kind: Kind
    approaches: tuple[str, ...]
    size: tuple[str, ...]
    metrics: tuple[str, ...]
    repeats: int

    def to_text(self) -> str:
        return (
            f"kind: {self.kind}\napproaches: {' '.join(self.approaches)}\n"
            f"size: {' '.join(self.size)}\nmetrics: {' '.join(self.metrics)}\n"
            f"repeats: {self.repeats}\n"
        )


_FORM = re.compile(
    r"kind: (?P<kind>\w+)\napproaches: (?P<approaches>[\w ]+)\nsize: (?P<size>[\w ]+)\n"
    r"metrics: (?P<metrics>[\w ]+)\nrepeats: (?P<repeats>\d+)\n"
)


def parse_compact(text: str) -> CompactPlan:
    """The compact plan in ``text``; ``CompactPlanError`` when the text breaks the grammar."""
    match = _FORM.fullmatch(text)
    if match is None:
        raise CompactPlanError(
            f"compact plan: expected the five lines of the grammar, found {text!r}"
        )
    kind = match["kind"]
    if kind not in KINDS:
        raise CompactPlanError(f"compact plan: kind: expected one of {KINDS}, found {kind!r}")
    plan = CompactPlan(
        cast(Kind, kind),
        tuple(match["approaches"].split(" ")),
        tuple(match["size"].split(" ")),
        tuple(match["metrics"].split(" ")),
        int(match["repeats"]),
    )
    check_compact(plan)
    return plan


def check_compact(plan: CompactPlan) -> None:
    """``CompactPlanError`` unless ``plan`` is one the grammar generates."""
    names = [a.name for a in APPROACHES[plan.kind]]
    quality = [m.id for m in QUALITY_METRICS[plan.kind]]
    ordered = quality + [m.id for m in COST_METRICS]
    checks = (
        ("approaches", names, plan.approaches, _ordered_subset(plan.approaches, names)),
        (
            "metrics",
            ordered,
            plan.metrics,
            _ordered_subset(plan.metrics, ordered) and plan.metrics[0] in quality,
        ),
        (
            "size",
            VARIANTS,
            plan.size,
            len(plan.size) in (1, 2)
            and len(set(plan.size)) == len(plan.size)
            and set(plan.size) <= set(VARIANTS),
        ),
        ("repeats", REPEATS, plan.repeats, plan.repeats in REPEATS),
    )
    for line, allowed, found, ok in checks:
        if not ok:
            raise CompactPlanError(
                f"compact plan: {line}: expected (in this order, each once) some of {list(allowed)}, found {found!r}"
            )


def _ordered_subset(chosen: tuple[str, ...], allowed: list[str]) -> bool:
    positions = [allowed.index(name) for name in chosen if name in allowed]
    return bool(chosen) and len(positions) == len(chosen) and positions == sorted(set(positions))


def _chain(prefix: str, names: list[str], tail: str = "") -> list[str]:
    """Rules ``prefix_i: name_i (" " prefix_j)?`` for j > i: ordered subsets, each name once."""
    rules = []
    for i, name in enumerate(names):
        later = [f"{prefix}_{j}" for j in range(i + 1, len(names))] + ([tail] if tail else [])
        rest = f' (" " ({" | ".join(later)}))?' if later else ""
        rules.append(f'{prefix}_{i}: "{name}"{rest}')
    return rules


def grammar() -> str:
    """The Lark grammar (llguidance) of every compact plan, and only those."""
    lines = ['start: "kind: " (' + " | ".join(f"{k}_plan" for k in KINDS) + ")"]
    cost = [m.id for m in COST_METRICS]
    lines += _chain("cost", cost)
    for kind in KINDS:
        names = [a.name for a in APPROACHES[kind]]
        quality = [m.id for m in QUALITY_METRICS[kind]]
        any_name = " | ".join(f"{kind}_a_{i}" for i in range(len(names)))
        any_quality = " | ".join(f"{kind}_q_{i}" for i in range(len(quality)))
        lines.append(
            f'{kind}_plan: "{kind}\\napproaches: " ({any_name}) "\\nsize: " size '
            f'"\\nmetrics: " ({any_quality}) "\\nrepeats: " repeats "\\n"'
        )
        lines += _chain(f"{kind}_a", names)
        lines += _chain(f"{kind}_q", quality, tail="cost_0 | cost_1")
    sizes = " | ".join(
        f'"{v}"' + f' (" " ({" | ".join(f"{chr(34)}{w}{chr(34)}" for w in VARIANTS if w != v)}))?'
        for v in VARIANTS
    )
    lines += [f"size: {sizes}", f"repeats: {' | '.join(f'{chr(34)}{r}{chr(34)}' for r in REPEATS)}"]
    return "\n".join(lines) + "\n"
