"""Calibrated timing rounds: warm-up, then rounds of calibrated iterations.

Standard library only: the process template's children load this file by
path to time an iteration's ``run()`` without importing pytest. Statistics are
computed afterwards, in the pytest process, with pytest-benchmark's ``Stats``
(see ``pytest_iterbench.execution.timing_stats``).

A round calls the function ``iterations`` times in a row and records the mean
time per call, so functions far faster than the timer's resolution are timed
well (pytest-benchmark's calibration). Rounds continue until ``max_time`` has
passed and at least ``min_rounds`` were taken; a fixed ``rounds`` overrides both
(``rounds=1, warmup_rounds=0`` for expensive iterations).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

Timer = Callable[[], float]


@dataclass(frozen=True)
class TimingPlan:
    """How to time: warm-up, rounds, calibration."""

    warmup_rounds: int = 1
    min_rounds: int = 5
    max_rounds: int = 1000
    max_time: float = 1.0
    rounds: int | None = None
    min_round_time: float = 5e-5
    disable_gc: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimingPlan:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown timing options {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TimedRounds:
    """Seconds per call of each round, and how they were taken."""

    durations: list[float] = field(default_factory=list)
    iterations: int = 1
    warmup_rounds: int = 0
    timer: str = "time.perf_counter"
    total_seconds: float = 0.0
    started_at: float = 0.0  # epoch seconds: when the measurement ran, to check it ran alone
    finished_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def calibrate(
    func: Callable[[], Any], min_round_time: float, timer: Timer = time.perf_counter
) -> tuple[int, float]:
    """Iterations per round so that a round lasts at least ``min_round_time``; and one call's time."""
    iterations = 1
    while True:
        start = timer()
        for _ in range(iterations):
            func()
        elapsed = timer() - start
        if elapsed >= min_round_time or iterations >= 1 << 30:
            return iterations, elapsed / iterations
        iterations *= 10 if elapsed <= min_round_time / 10 else 2


def time_rounds(
    func: Callable[[], Any], plan: TimingPlan, timer: Timer = time.perf_counter
) -> TimedRounds:
    """Time ``func`` as ``plan`` says; its return value is discarded."""
    started = timer()
    wall_start = time.time()
    for _ in range(plan.warmup_rounds):
        func()
    iterations, _ = calibrate(func, plan.min_round_time, timer) if plan.rounds != 1 else (1, 0.0)
    result = TimedRounds(iterations=iterations, warmup_rounds=plan.warmup_rounds)
    gc_was_enabled = gc.isenabled()
    if plan.disable_gc:
        gc.disable()
    try:
        deadline = timer() + plan.max_time
        while _more_rounds(result, plan, timer() < deadline):
            start = timer()
            for _ in range(iterations):
                func()
            result.durations.append((timer() - start) / iterations)
    finally:
        if gc_was_enabled:
            gc.enable()
    result.total_seconds = timer() - started
    result.started_at, result.finished_at = wall_start, time.time()
    return result


def _more_rounds(result: TimedRounds, plan: TimingPlan, time_left: bool) -> bool:
    taken = len(result.durations)
    if plan.rounds is not None:
        return taken < plan.rounds
    return taken < plan.max_rounds and (taken < plan.min_rounds or time_left)
