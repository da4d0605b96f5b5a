"""The documented class path of the LLM cost metrics: ``pytest_iterbench.llm.metrics.<Name>``.

The classes live in :mod:`pytest_iterbench.llm.cost_metrics`; ``metrics.json``
files name them here, so this path stays.
"""

from __future__ import annotations

from pytest_iterbench.llm.cost_metrics import (
    LlmCostMetric,
    LlmInputTokensMetric,
    LlmOutputTokensMetric,
)

__all__ = ["LlmCostMetric", "LlmInputTokensMetric", "LlmOutputTokensMetric"]
