"""Metric classes that read the LLM trace: what producing an iteration cost.

Name them in ``metrics.json``; each sums the workspace's trace records whose
``iteration_id`` is the measured iteration (planner, solver and reviewer
calls alike). With no such record the value is 0 and the metadata says so.

```json
{"id": "llm_cost_usd", "class": "pytest_iterbench.llm.cost_metrics.LlmCostMetric",
 "higher_is_better": false, "unit": "USD", "type": "cost"}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_iterbench.errors import IterbenchError, MetricSkipped
from pytest_iterbench.execution.executor import Execution
from pytest_iterbench.llm.costs import CostTotals, totals
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.metrics.base import BaseMetric, MetricResult


class _TraceMetric(BaseMetric):
    """Sums the trace records of the measured iteration; subclasses pick the value."""

    default_unit = ""

    def value(self, sums: CostTotals) -> float:
        raise NotImplementedError

    def measure(
        self, iteration_path: str, entry_point: str, parameters: dict[str, Any]
    ) -> MetricResult:
        raise IterbenchError(
            f"{type(self).__name__} reads the workspace's trace by iteration id: "
            "the harness calls measure_execution(execution)"
        )

    def measure_execution(self, execution: Execution) -> MetricResult:
        if execution.workspace_root is None:
            raise MetricSkipped(f"{type(self).__name__}: the execution does not name its workspace")
        sums = _sums(Path(execution.workspace_root), execution.iteration.id)
        unit = self.unit or self.default_unit
        return MetricResult(self.metric_id, self.value(sums), unit, _metadata(sums))


def _sums(root: Path, iteration_id: str) -> CostTotals:
    return totals(r for r in TraceStore(root).records() if r.iteration_id == iteration_id)


def _metadata(sums: CostTotals) -> dict[str, Any]:
    if not sums.calls:
        return {"llm_calls": 0, "note": "no LLM call is traced for this iteration"}
    metadata: dict[str, Any] = {
        "llm_calls": sums.calls,
        "failed_calls": sums.failed_calls,
        "input_tokens": sums.input_tokens,
        "cache_creation_input_tokens": sums.cache_creation_input_tokens,
        "cache_read_input_tokens": sums.cache_read_input_tokens,
        "output_tokens": sums.output_tokens,
        "cost_usd": sums.cost_usd,
    }
    if sums.unpriced_calls:
        metadata["unpriced_calls"] = sums.unpriced_calls
        metadata["note"] = "some calls used a model with no price: the cost is a lower bound"
    return metadata


class LlmCostMetric(_TraceMetric):
    """USD spent on LLM calls that produced the iteration (a lower bound if a model had no price)."""

    default_unit = "USD"

    def value(self, sums: CostTotals) -> float:
        return sums.cost_usd


class LlmInputTokensMetric(_TraceMetric):
    """Input tokens of the LLM calls that produced the iteration, cached ones included."""

    default_unit = "tokens"

    def value(self, sums: CostTotals) -> float:
        return float(sums.prompt_tokens)


class LlmOutputTokensMetric(_TraceMetric):
    """Output tokens of the LLM calls that produced the iteration."""

    default_unit = "tokens"

    def value(self, sums: CostTotals) -> float:
        return float(sums.output_tokens)
