"""The metric API of the seed: ``BaseMetric``, ``MetricResult``, ``timed``, ``requires_gpu``.

A metric class written to the seed's signature works unchanged::

    class LinesOfCode(BaseMetric):
        def measure(self, iteration_path, entry_point, parameters):
            lines = (Path(iteration_path) / entry_point).read_text().count("\\n")
            return MetricResult(metric_id="loc", value=lines, unit="lines")

The harness calls ``measure_execution(execution)``; its default forwards to the
seed's ``measure(iteration_path, entry_point, parameters)``. Metrics that read
the iteration's outputs or resources (the built-ins) override it instead, so
the entry point runs once however many metrics read it.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pytest_iterbench.errors import GpuUnavailableError

if TYPE_CHECKING:
    from pytest_iterbench.execution.executor import Execution

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class MetricResult:
    """The result of one measurement (the seed's dataclass)."""

    metric_id: str
    value: float
    unit: str
    metadata: dict[str, Any] | None = None


class BaseMetric(ABC):
    """Base class of every metric (the seed's abstract class).

    The harness sets ``metric_id``, ``unit`` and ``higher_is_better`` from the
    metric's entry in ``metrics.json`` after instantiating the class with the
    entry's ``options`` as keyword arguments.
    """

    metric_id: str = ""
    higher_is_better: bool = True
    unit: str = ""

    @abstractmethod
    def measure(
        self, iteration_path: str, entry_point: str, parameters: dict[str, Any]
    ) -> MetricResult:
        """Measure the iteration at ``iteration_path`` (the seed's signature)."""

    def measure_execution(self, execution: Execution) -> MetricResult:
        """Measure from an execution the harness already ran; defaults to ``measure``."""
        return self.measure(
            str(execution.directory),
            execution.iteration.entry_point,
            dict(execution.iteration.parameters),
        )

    def setup(self) -> None:  # noqa: B027 - optional hook of the seed's API
        """Optional hook: preparation before the measurement."""

    def teardown(self) -> None:  # noqa: B027 - optional hook of the seed's API
        """Optional hook: clean-up after the measurement."""


def timed(func: Callable[P, R]) -> Callable[P, R]:
    """Add the wall time of ``func`` to the ``MetricResult`` it returns (``wall_time_seconds``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        result = func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        if isinstance(result, MetricResult):
            if result.metadata is None:
                result.metadata = {}
            result.metadata["wall_time_seconds"] = elapsed
        return result

    return wrapper


def cuda_available() -> tuple[bool, str]:
    """Whether CUDA can be used here, and if not, why (imports torch only when installed)."""
    try:
        import torch
    except ImportError:
        return False, "GPU required but torch is not installed"
    if not torch.cuda.is_available():
        return False, "GPU required but CUDA is not available on this machine"
    return True, ""


def requires_gpu(func: Callable[P, R]) -> Callable[P, R]:
    """Skip the measurement, with the reason, where CUDA is not available.

    Raises ``GpuUnavailableError`` (a ``RuntimeError``, as in the seed), which
    the harness reports as a skipped item and a ``skipped`` record.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        available, reason = cuda_available()
        if not available:
            raise GpuUnavailableError(reason)
        return func(*args, **kwargs)

    return wrapper
