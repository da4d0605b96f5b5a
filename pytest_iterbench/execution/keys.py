"""Every id built from an (iteration, repeat): item names, parameter ids, execution keys, xdist scopes.

One execution of an iteration in a run is a :class:`Slot`. Its names:

>>> slot = Slot("v1", repeat=1, count=2)
>>> slot.item_name("accuracy"), slot.param_id, slot.scope
('v1-accuracy-r1', 'v1-r1', 'iterbench:v1-r1')
>>> execution_key("v1", 0), execution_key("v1", 1), timing_key("v1", 1)
('v1', 'v1.r1', 'v1.r1.timing')

An iteration that runs once has no ``-rN`` suffix in its item names and
parameter ids (``v1-accuracy``, ``test_x[v1]``). This module sits in
``execution/`` because the executor, its lowest user, names its files by
execution key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pytest_iterbench.workspace.model import Iteration, RunDefinition

SCOPE_PREFIX = "iterbench:"


def slot_suffix(repeat: int, count: int) -> str:
    """``-r2`` for the third repeat, nothing when the iteration runs once."""
    return f"-r{repeat}" if count > 1 else ""


def execution_key(iteration_id: str, repeat: int) -> str:
    """The executor's key (and file stem) of one execution: ``v1``, ``v1.r1``."""
    return iteration_id if repeat == 0 else f"{iteration_id}.r{repeat}"


def timing_key(iteration_id: str, repeat: int) -> str:
    """The key of a timed run of ``run()`` (a TimingMetric's fresh child): ``v1.r0.timing``."""
    return f"{iteration_id}.r{repeat}.timing"


@dataclass(frozen=True)
class Slot:
    """One execution of an iteration in a run: repeat ``repeat`` of ``count``, with its seed."""

    iteration_id: str
    repeat: int = 0
    count: int = 1
    seed: int | None = None

    @property
    def param_id(self) -> str:
        """A metric test's parameter id: ``v1``, ``v1-r1``."""
        return self.iteration_id + slot_suffix(self.repeat, self.count)

    def item_name(self, metric_id: str) -> str:
        """A class metric's item name under ``runs.json::<run>``: ``v1-accuracy``, ``v1-accuracy-r1``."""
        return f"{self.iteration_id}-{metric_id}{slot_suffix(self.repeat, self.count)}"

    @property
    def scope(self) -> str:
        """The xdist scope shared by every item of this execution: ``iterbench:v1-r0``."""
        return f"{SCOPE_PREFIX}{self.iteration_id}-r{self.repeat}"

    @property
    def key(self) -> str:
        """The executor's key of this execution (see :func:`execution_key`)."""
        return execution_key(self.iteration_id, self.repeat)


def run_slots(run: RunDefinition, iterations: Mapping[str, Iteration]) -> Iterator[Slot]:
    """Every execution of ``run``, iteration by iteration, repeats in order."""
    for iteration_id in run.iteration_ids:
        seeds = run.repeat_seeds(iterations[iteration_id])
        for repeat, seed in enumerate(seeds):
            yield Slot(iteration_id, repeat, len(seeds), seed)
