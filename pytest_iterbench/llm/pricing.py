"""What a Claude API call costs: a dated price table, and ``cost(model, usage)``.

Prices are USD per million tokens, as published on Anthropic's pricing page
(https://platform.claude.com/docs/en/about-claude/pricing) and the model pages
it links to, read on ``PRICE_TABLE_DATE``. Rows marked *secondary* were not on
the copy of the page read that day and come from price trackers quoting it;
check them against the page when you update this table. Update the date and
every row together.

A model absent from the table gets no cost (``None``) and an
``UnknownModelPrice`` warning: never a silent $0.

>>> usage = TokenUsage(input_tokens=1_000, output_tokens=500)
>>> cost("claude-sonnet-5-5", usage)
0.007
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from pytest_iterbench.llm.errors import UnknownModelPrice

PRICE_TABLE_DATE = "2026-11-21"
MILLION = 1_000_000


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one call, as the API's ``usage`` reports them.

    ``input_tokens`` excludes the cached prefix: tokens written to the cache
    are ``cache_creation_input_tokens`` (of which ``cache_creation_1h_tokens``
    at the one-hour TTL), tokens read from it ``cache_read_input_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the call, cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @classmethod
    def from_api(cls, usage: Any) -> TokenUsage:
        """From the SDK's ``Usage`` model (missing cache fields count as 0)."""
        breakdown = getattr(usage, "cache_creation", None)
        return cls(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            cache_creation_1h_tokens=getattr(breakdown, "ephemeral_1h_input_tokens", 0) or 0,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_1h_tokens": self.cache_creation_1h_tokens,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenUsage:
        return cls(**{key: int(data.get(key) or 0) for key in cls().to_json()})


@dataclass(frozen=True)
class Rates:
    """USD per million tokens, for one model (and one prompt-length tier)."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


@dataclass(frozen=True)
class ModelPrice:
    """A model's rates; ``long`` applies to every token of a call whose prompt exceeds ``long_above``."""

    rates: Rates
    long: Rates | None = None
    long_above: int = 0

    def for_prompt(self, prompt_tokens: int) -> Rates:
        if self.long is not None and prompt_tokens > self.long_above:
            return self.long
        return self.rates


def _r(inp: float, w5: float, w1: float, read: float, out: float) -> ModelPrice:
    return ModelPrice(Rates(inp, out, w5, w1, read))


_OPUS_45 = _r(5, 6.25, 10, 0.50, 25)
_OPUS_4 = _r(15, 18.75, 30, 1.50, 75)
_SONNET_4 = _r(3, 3.75, 6, 0.30, 15)
_FABLE_5 = _r(10, 12.50, 20, 1.00, 50)
_FABLE_51 = _r(10, 12.50, 20, 0.25, 50)

# input, 5m cache write, 1h cache write, cache read, output
PRICES: dict[str, ModelPrice] = {
    "claude-fable-5-2": _r(8, 10, 16, 0.20, 40),  # secondary: released 2026-11-09
    "claude-fable-5-1": _FABLE_51,
    "claude-mythos-5-1": _FABLE_51,
    "claude-fable-5": _FABLE_5,
    "claude-mythos-5": _FABLE_5,
    "claude-opus-5-5": _r(4, 5, 8, 0.20, 20),
    "claude-opus-5": _OPUS_45,
    "claude-opus-4-8": _OPUS_45,
    "claude-opus-4-7": _OPUS_45,
    "claude-opus-4-6": _OPUS_45,
    "claude-opus-4-5": _OPUS_45,
    "claude-opus-4-1": _OPUS_4,
    "claude-opus-4": _OPUS_4,
    "claude-sonnet-5-5": _r(2, 2.50, 4, 0.10, 10),  # cache read cut from $0.20 on 2026-10-07
    "claude-sonnet-5": _r(2, 2.50, 4, 0.20, 10),
    "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4,
    "claude-sonnet-4": _SONNET_4,
    "claude-haiku-5-5": ModelPrice(
        Rates(0.10, 0.50, 0.125, 0.20, 0.01),
        long=Rates(0.50, 2.50, 0.625, 1.00, 0.05),
        long_above=100_000,
    ),
    "claude-haiku-4-5": _r(1, 1.25, 2, 0.10, 5),
}

_DECORATIONS = (
    re.compile(r"^anthropic\."),  # Bedrock ids
    re.compile(r"\[1m\]$"),  # the 1M-context variant name
    re.compile(r"-v\d+:\d+$"),  # Bedrock version suffix
    re.compile(r"[@-]\d{8}$"),  # dated snapshot: -20250929 (API), @20250929 (Vertex)
    re.compile(r"-0$"),  # claude-opus-4-0 is claude-opus-4
)


def canonical_model(model: str) -> str:
    """The table's name for a model id: dated snapshots and platform spellings map to their alias.

    >>> canonical_model("claude-haiku-4-5-20251001"), canonical_model("claude-opus-4-0")
    ('claude-haiku-4-5', 'claude-opus-4')
    """
    name = model.strip().lower()
    for pattern in _DECORATIONS:
        name = pattern.sub("", name)
    return name


def price_for(model: str) -> ModelPrice | None:
    """The model's prices, or None when the table does not know it."""
    return PRICES.get(canonical_model(model))


def cost(model: str, usage: TokenUsage) -> float | None:
    """The USD cost of one call; None (with an ``UnknownModelPrice`` warning) for an unknown model."""
    price = price_for(model)
    if price is None:
        warnings.warn(UnknownModelPrice(model, PRICE_TABLE_DATE), stacklevel=2)
        return None
    rates = price.for_prompt(usage.prompt_tokens)
    write_5m = usage.cache_creation_input_tokens - usage.cache_creation_1h_tokens
    total = (
        usage.input_tokens * rates.input
        + write_5m * rates.cache_write_5m
        + usage.cache_creation_1h_tokens * rates.cache_write_1h
        + usage.cache_read_input_tokens * rates.cache_read
        + usage.output_tokens * rates.output
    )
    return round(total / MILLION, 10)
