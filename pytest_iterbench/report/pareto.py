"""Trade-offs: which iterations no other iteration beats on every axis at once (the Pareto front).

An axis is a metric with a direction. Iteration *a* dominates *b* when *a* is
at least as good as *b* on every axis and strictly better on one; the front
is the set of iterations nothing dominates. An iteration that lacks a value on
some axis cannot be placed, and is reported apart rather than guessed at.

>>> front = pareto_front(
...     {"fast": (90.0, 1.0), "accurate": (97.0, 9.0), "worse": (89.0, 2.0)},
...     (Axis("accuracy", True), Axis("exec_time", False)),
... )
>>> front.members, front.dominated_by["worse"]
(('fast', 'accurate'), ('fast',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Axis:
    """One dimension of the trade-off: a metric and which way is better."""

    metric_id: str
    higher_is_better: bool

    @property
    def arrow(self) -> str:
        """``higher`` or ``lower``: the better direction, in words."""
        return "higher" if self.higher_is_better else "lower"


def _oriented(point: Sequence[float], axes: Sequence[Axis]) -> tuple[float, ...]:
    """The point with every axis turned so that larger is better."""
    return tuple(v if axis.higher_is_better else -v for v, axis in zip(point, axes, strict=True))


def dominates(a: Sequence[float], b: Sequence[float], axes: Sequence[Axis]) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every axis and better on one.

    >>> dominates((2.0, 1.0), (1.0, 1.0), (Axis("q", True), Axis("t", False)))
    True
    >>> dominates((2.0, 3.0), (1.0, 1.0), (Axis("q", True), Axis("t", False)))
    False
    """
    better = _oriented(a, axes)
    worse = _oriented(b, axes)
    return all(x >= y for x, y in zip(better, worse, strict=True)) and better != worse


@dataclass(frozen=True)
class ParetoFront:
    """The front over some axes: members, who beats the others, and who could not be placed."""

    axes: tuple[Axis, ...]
    members: tuple[str, ...]
    dominated_by: Mapping[str, tuple[str, ...]]
    unplaced: tuple[str, ...] = ()

    def on_front(self, name: str) -> bool | None:
        """True on the front, False when beaten, None when it lacks a value on some axis."""
        if name in self.members:
            return True
        return False if name in self.dominated_by else None


def pareto_front(
    points: Mapping[str, Sequence[float | None]],
    axes: Sequence[Axis],
) -> ParetoFront:
    """The Pareto front of ``points`` (name -> one value per axis, in the order of ``axes``).

    Names keep the order of ``points``. A point with a None value is ``unplaced``.
    Identical points do not dominate each other: both stay on the front.
    """
    placed: dict[str, tuple[float, ...]] = {}
    unplaced: list[str] = []
    for name, point in points.items():
        if len(point) != len(axes):
            raise ValueError(f"{name}: {len(point)} values for {len(axes)} axes")
        if any(v is None for v in point):
            unplaced.append(name)
        else:
            placed[name] = tuple(float(v) for v in point if v is not None)
    beaten = {
        name: tuple(
            other
            for other, theirs in placed.items()
            if other != name and dominates(theirs, mine, axes)
        )
        for name, mine in placed.items()
    }
    members = tuple(name for name, by in beaten.items() if not by)
    return ParetoFront(
        axes=tuple(axes),
        members=members,
        dominated_by={name: by for name, by in beaten.items() if by},
        unplaced=tuple(unplaced),
    )


def staircase(
    points: Sequence[tuple[float, float]], axes: tuple[Axis, Axis]
) -> list[tuple[float, float]]:
    """The 2-D front of ``points`` (x, y) as the corners of a step line, from left to right.

    For drawing: consecutive corners joined horizontally then vertically
    outline the region the front dominates.

    >>> staircase([(1.0, 90.0), (3.0, 97.0), (2.0, 80.0)], (Axis("t", False), Axis("q", True)))
    [(1.0, 90.0), (3.0, 97.0)]
    """
    front = pareto_front({str(k): p for k, p in enumerate(points)}, axes)
    corners = sorted({points[int(k)] for k in front.members})
    return corners
