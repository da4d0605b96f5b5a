"""What an item measures, kept in the item's stash: the lowest module of the harness.

Collection puts a :class:`Target` on every item of the run (class-metric items
and parametrized metric tests); the session and the fixtures read it back with
:func:`item_target`. An ordinary test has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_iterbench.execution.keys import Slot

METRIC_MARKER = "metric"


@dataclass(frozen=True)
class Target:
    """What an item measures: one metric of one execution (repeat) of one iteration."""

    iteration_id: str
    metric_id: str
    repeat: int = 0
    seed: int | None = None

    @classmethod
    def of(cls, slot: Slot, metric_id: str) -> Target:
        return cls(slot.iteration_id, metric_id, slot.repeat, slot.seed)


TARGET_KEY = pytest.StashKey[Target]()


def item_target(item: pytest.Item) -> Target | None:
    """The pair an item measures, or None for an ordinary test."""
    return item.stash.get(TARGET_KEY, None)
