"""Metrics: the seed's base classes and the built-in metric classes.

The class paths users write in ``metrics.json`` are
``pytest_iterbench.metrics.<Name>`` (``AccuracyMetric``, ``F1MacroMetric``,
``ExecutionTimeMetric``, ``PeakMemoryMetric``, ``GpuMemoryMetric``,
``TimingMetric``); this module re-exports them from the modules that define them.
"""

from __future__ import annotations

from pytest_iterbench.metrics.base import (
    BaseMetric,
    MetricResult,
    cuda_available,
    requires_gpu,
    timed,
)
from pytest_iterbench.metrics.builtin import (
    AccuracyMetric,
    ExecutionMetric,
    ExecutionTimeMetric,
    F1MacroMetric,
    GpuMemoryMetric,
    PeakMemoryMetric,
    TimingMetric,
    execute_standalone,
    standalone_executor,
)

__all__ = [
    "AccuracyMetric",
    "BaseMetric",
    "ExecutionMetric",
    "ExecutionTimeMetric",
    "F1MacroMetric",
    "GpuMemoryMetric",
    "MetricResult",
    "PeakMemoryMetric",
    "TimingMetric",
    "cuda_available",
    "execute_standalone",
    "requires_gpu",
    "standalone_executor",
    "timed",
]
