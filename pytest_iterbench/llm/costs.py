"""Sums of the trace: calls, tokens and USD, grouped by role, model, day or iteration.

``iterbench costs`` prints them as a Markdown table. A call whose model had no
price counts in ``unpriced_calls`` and its cost shows as unknown: it never
adds a silent $0.

>>> print(render_costs(summarise(TraceStore(Path(".")).records(), ("role",)), ("role",)))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pytest_iterbench.llm.pricing import PRICE_TABLE_DATE
from pytest_iterbench.llm.traces import TraceRecord

GroupBy = Literal["role", "model", "day", "iteration"]
GROUPS: tuple[GroupBy, ...] = ("role", "model", "day", "iteration")


@dataclass
class CostTotals:
    """Running sums over trace records."""

    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def add(self, record: TraceRecord) -> CostTotals:
        self.calls += 1
        self.failed_calls += record.status != "ok"
        self.input_tokens += record.usage.input_tokens
        self.output_tokens += record.usage.output_tokens
        self.cache_creation_input_tokens += record.usage.cache_creation_input_tokens
        self.cache_read_input_tokens += record.usage.cache_read_input_tokens
        if record.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd = round(self.cost_usd + record.cost_usd, 10)
        return self

    def cost_text(self) -> str:
        known = f"{self.cost_usd:.4f}"
        return known if not self.unpriced_calls else f"≥ {known} ({self.unpriced_calls} unpriced)"


@dataclass(frozen=True)
class CostRow:
    """The totals of one group (``key`` holds one value per grouping field)."""

    key: tuple[str, ...]
    totals: CostTotals = field(default_factory=CostTotals)


def _value(record: TraceRecord, group: GroupBy) -> str:
    values = {
        "role": record.role,
        "model": record.model,
        "day": record.day,
        "iteration": record.iteration_id or "-",
    }
    return values[group]


def summarise(records: Iterable[TraceRecord], by: Sequence[GroupBy]) -> list[CostRow]:
    """One row per distinct combination of ``by``'s values, sorted by key."""
    rows: dict[tuple[str, ...], CostRow] = {}
    for record in records:
        key = tuple(_value(record, group) for group in by)
        rows.setdefault(key, CostRow(key)).totals.add(record)
    return [rows[key] for key in sorted(rows)]


def totals(records: Iterable[TraceRecord]) -> CostTotals:
    """The sums over all ``records``."""
    result = CostTotals()
    for record in records:
        result.add(record)
    return result


HEADER = ("Calls", "Failed", "Input", "Cache write", "Cache read", "Output", "USD")


def render_costs(rows: Sequence[CostRow], by: Sequence[GroupBy]) -> str:
    """A Markdown table of ``rows`` under a heading, with a total line (passes pymarkdownlnt)."""
    grand = CostTotals()
    for row in rows:
        _merge(grand, row.totals)
    total = CostRow(("**total**", *[""] * (len(by) - 1)), grand)
    lines = [
        f"# LLM costs by {', '.join(by)}",
        "",
        _row([*(g.capitalize() for g in by), *HEADER]),
        _row(["---"] * len(by) + ["---:"] * len(HEADER)),
        *(_row([*(_cell(k) for k in row.key), *_numbers(row.totals)]) for row in [*rows, total]),
        "",
        f"Prices: the package's table of {PRICE_TABLE_DATE}; tokens as the API reported them.",
    ]
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else " "


def _numbers(t: CostTotals) -> list[str]:
    counts = (
        t.calls,
        t.failed_calls,
        t.input_tokens,
        t.cache_creation_input_tokens,
        t.cache_read_input_tokens,
        t.output_tokens,
    )
    return [*(f"{n:,}" for n in counts), t.cost_text()]


def _merge(into: CostTotals, other: CostTotals) -> None:
    for name in (
        "calls",
        "failed_calls",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "unpriced_calls",
    ):
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.cost_usd = round(into.cost_usd + other.cost_usd, 10)
