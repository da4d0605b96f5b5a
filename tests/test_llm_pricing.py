"""The price table: known models, dated aliases, tiers, cache rates, unknown models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_iterbench.llm.errors import UnknownModelPrice
from pytest_iterbench.llm.pricing import PRICES, TokenUsage, canonical_model, cost, price_for


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-5-5", 2.0),
        ("claude-opus-4-5-20251101", 5.0),
        ("claude-haiku-4-5-20251001", 1.0),
        ("claude-opus-4-0", 15.0),
        ("claude-opus-4-20250514", 15.0),
        ("claude-sonnet-4-5@20250929", 3.0),
        ("anthropic.claude-opus-4-1-20250805-v1:0", 15.0),
        ("claude-opus-5-5[1m]", 4.0),
    ],
)
def test_dated_and_platform_names_find_their_price(model, expected):
    price = price_for(model)
    assert price is not None
    assert price.rates.input == expected


def test_every_table_name_is_canonical():
    assert all(canonical_model(name) == name for name in PRICES)


def test_a_call_is_priced_per_token_kind():
    usage = TokenUsage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_creation_input_tokens=3_000_000,
        cache_creation_1h_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    # Opus 4.8: 5 input + 2 x 6.25 (5m write) + 10 (1h write) + 0.50 (read) + 25 output
    assert cost("claude-opus-4-8", usage) == pytest.approx(5 + 12.5 + 10 + 0.5 + 25)


def test_haiku_5_5_long_prompts_pay_the_long_rate_on_every_token():
    short = TokenUsage(input_tokens=100_000, output_tokens=1_000)
    long = TokenUsage(input_tokens=100_001, output_tokens=1_000)
    assert cost("claude-haiku-5-5", short) == pytest.approx(0.01 + 0.0005)
    assert cost("claude-haiku-5-5", long) == pytest.approx(100_001 * 0.5e-6 + 0.0025)


def test_an_unknown_model_costs_none_and_warns_never_zero():
    with pytest.warns(UnknownModelPrice, match="no price for model 'claude-next'") as caught:
        assert cost("claude-next", TokenUsage(input_tokens=10)) is None
    assert caught[0].message.model == "claude-next"


usages = st.builds(
    TokenUsage,
    input_tokens=st.integers(0, 50_000),
    output_tokens=st.integers(0, 50_000),
    cache_creation_input_tokens=st.integers(0, 40_000),
    cache_read_input_tokens=st.integers(0, 40_000),
)


@given(usages, usages)
def test_cost_is_additive_over_calls(first, second):
    both = TokenUsage(**{k: getattr(first, k) + getattr(second, k) for k in first.to_json()})
    model = "claude-sonnet-5-5"
    assert cost(model, both) == pytest.approx(cost(model, first) + cost(model, second), abs=1e-9)


@given(usages)
def test_usage_round_trips_through_json(usage):
    assert TokenUsage.from_json(usage.to_json()) == usage
