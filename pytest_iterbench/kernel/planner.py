"""``--planner kernel``: the local model plans, offline, priced by the CPU time it took.

The model writes a compact plan under the grammar, the expander writes the
plan, and the shared validator checks it as it checks the API planner's (it
cannot fail by construction; a failure would be a bug and is raised, never
repaired). Each plan is traced like an API call (role ``planner``, tokens,
latency, cost) in ``.iterbench/traces/``.

Cost: ``cost_usd = cpu_seconds × CPU_HOUR_USD / 3600``, where
``CPU_HOUR_USD = 0.05`` is an on-demand cloud vCPU-hour, rounded up (a
laptop's electricity costs less). At about 2 CPU-seconds a plan that is
about $0.00003, thirty times under the seed's $0.001 target.

>>> planner = kernel_planner(Path("."))  # doctest: +SKIP
>>> planner.plan(PlanTask.from_description("Forecast daily sales"), Path(".")).iterations[0]["id"]  # doctest: +SKIP
'naive-m'
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pytest_iterbench.kernel.baseline import baseline_compact
from pytest_iterbench.kernel.compact import CompactPlan
from pytest_iterbench.kernel.decode import ConstrainedDecoder, Generation
from pytest_iterbench.kernel.expander import Stamp, expand
from pytest_iterbench.kernel.model import ADAPTER_DIR, load_kernel
from pytest_iterbench.kernel.prompt import messages
from pytest_iterbench.llm.errors import PlanInvalid
from pytest_iterbench.llm.plan import Existing, Plan, PlannerMode, plan_problems
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceRecord, TraceStore, prompt_hash
from pytest_iterbench.results.records import utc_now

CPU_HOUR_USD = 0.05
PRICE_TABLE = f"kernel-cpu-{CPU_HOUR_USD}-usd-per-cpu-hour"


def cpu_cost(cpu_seconds: float) -> float:
    """USD for ``cpu_seconds`` of CPU at ``CPU_HOUR_USD``."""
    return round(cpu_seconds * CPU_HOUR_USD / 3600, 10)


class KernelPlanner:
    """Plans with a ``ConstrainedDecoder``; ``traces`` (if given) records each plan."""

    mode: PlannerMode = "kernel"

    def __init__(
        self, decoder: ConstrainedDecoder, model: str, *, traces: TraceStore | None = None
    ) -> None:
        self.decoder = decoder
        self.model = model
        self.traces = traces

    def plan(self, task: PlanTask, workspace: Path) -> Plan:
        existing = Existing.read(workspace)
        generation = self.decoder.generate(task.text)
        document = expand(
            generation.compact, task, existing, Stamp(self.mode, self.model, utc_now())
        )
        document["cost"] = _cost(generation)
        problems = plan_problems(document, existing)
        if problems:  # impossible by construction: a bug to see, not to repair
            raise PlanInvalid(f"{self.model} ({self.mode})", problems, 1)
        if self.traces is not None:
            self.traces.append(self._record(task, generation))
        return Plan.from_json(document)

    def _record(self, task: PlanTask, generation: Generation) -> TraceRecord:
        request = {"model": self.model, "messages": messages(task.text)}
        return TraceRecord(
            timestamp=utc_now(),
            role="planner",
            model=self.model,
            status="ok",
            usage=TokenUsage(
                input_tokens=generation.prompt_tokens, output_tokens=generation.output_tokens
            ),
            cost_usd=cpu_cost(generation.cpu_seconds),
            latency_seconds=generation.wall_seconds,
            retries=0,
            prompt_sha256=prompt_hash(request),
            stop_reason="grammar_complete",
            price_table=PRICE_TABLE,
            prompt=request,
            answer=[{"type": "text", "text": generation.text}],
        )


def _cost(generation: Generation) -> dict[str, Any]:
    return {
        "calls": 1,
        "input_tokens": generation.prompt_tokens,
        "output_tokens": generation.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cost_usd": cpu_cost(generation.cpu_seconds),
    }


@functools.lru_cache(maxsize=2)
def shared_decoder(adapter: Path | None = ADAPTER_DIR) -> tuple[ConstrainedDecoder, str]:
    """The process's decoder for ``adapter`` (model loaded and converted once)."""
    loaded = load_kernel(adapter)
    return ConstrainedDecoder(loaded.model, loaded.tokenizer), loaded.name


def kernel_planner(
    workspace: Path, *, store_content: bool = True, adapter: Path | None = ADAPTER_DIR
) -> KernelPlanner:
    """The kernel planner of a workspace, tracing into its ``.iterbench/traces/``."""
    decoder, name = shared_decoder(adapter)
    return KernelPlanner(decoder, name, traces=TraceStore(workspace, store_content=store_content))


class BaselinePlanner:
    """The rule-based planner (:mod:`~pytest_iterbench.kernel.baseline`), for comparison."""

    mode: PlannerMode = "kernel"

    def compact(self, task: PlanTask) -> CompactPlan:
        return baseline_compact(task.text)

    def plan(self, task: PlanTask, workspace: Path) -> Plan:
        existing = Existing.read(workspace)
        document = expand(
            self.compact(task), task, existing, Stamp(self.mode, "rule-baseline", utc_now())
        )
        return Plan.from_json(document)
