"""The model's roles in an orchestration (writer of code and metric classes, reviewer, narrator), made only when first used.

A resumed orchestration whose model steps are all done never needs a key:
the client is built (and the key resolved) at the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.llm.reviewer import ClaudeReviewer
from pytest_iterbench.llm.solver import CostMeter
from pytest_iterbench.orchestrator.implement import ClaudeCodeWriter
from pytest_iterbench.orchestrator.metric_classes import ClaudeMetricWriter
from pytest_iterbench.orchestrator.narrative import ClaudeNarrator, Narrative


@dataclass
class ModelRoles:
    """Builds the sender on first use (``make_sender``) and sums what every call cost."""

    make_sender: Callable[[], MessageSender]
    _meter: CostMeter | None = field(default=None, init=False)

    @property
    def meter(self) -> CostMeter:
        if self._meter is None:
            self._meter = CostMeter(self.make_sender())
        return self._meter

    def cost(self) -> float:
        return 0.0 if self._meter is None else self._meter.totals.cost_usd

    def write(self, task: str, entry: dict[str, Any], feedback: str = "") -> str:
        return ClaudeCodeWriter(self.meter).write(task, entry, feedback)

    def write_metric(self, task: str, entry: dict[str, Any], feedback: str = "") -> str:
        return ClaudeMetricWriter(self.meter).write_metric(task, entry, feedback)

    def review(
        self, failure: Failure, *, iteration_id: str | None = None, attempt: int | None = None
    ) -> Review:
        return ClaudeReviewer(self.meter).review(
            failure, iteration_id=iteration_id, attempt=attempt
        )

    def narrate(self, run_id: str, values: list[dict[str, Any]]) -> Narrative:
        return ClaudeNarrator(self.meter).narrate(run_id, values)
