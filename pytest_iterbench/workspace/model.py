"""The workspace's definitions: iterations, metrics and runs, as frozen dataclasses.

Each mirrors one entry of ``iterations.json``, ``metrics.json`` or ``runs.json``
(the seed formats); ``from_json`` takes an entry already validated against its
schema, ``to_json`` gives it back as plain builtins.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Iteration:
    """One alternative solution: a folder of code, an entry point and its parameters.

    >>> it = Iteration.from_json({"id": "v1", "source_path": "iterations/v1/", "entry_point": "main.py"})
    >>> it.parameters, it.parent
    ({}, None)
    """

    id: str
    source_path: str
    entry_point: str
    name: str = ""
    description: str = ""
    approach: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    created_at: str | None = None
    tags: tuple[str, ...] = ()
    timeout: float | None = None
    memory_limit_mb: float | None = None
    repeats: int | None = None
    timing: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Iteration:
        return cls(
            id=data["id"],
            source_path=data["source_path"],
            entry_point=data["entry_point"],
            name=data.get("name", ""),
            description=data.get("description", ""),
            approach=data.get("approach", ""),
            parameters=dict(data.get("parameters") or {}),
            parent=data.get("parent"),
            created_at=data.get("created_at"),
            tags=tuple(data.get("tags", ())),
            timeout=data.get("timeout"),
            memory_limit_mb=data.get("memory_limit_mb"),
            repeats=data.get("repeats"),
            timing=dict(data.get("timing") or {}),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "approach": self.approach,
            "source_path": self.source_path,
            "entry_point": self.entry_point,
            "parameters": self.parameters,
            "parent": self.parent,
            "tags": list(self.tags),
        }
        optional = {
            "created_at": self.created_at,
            "timeout": self.timeout,
            "memory_limit_mb": self.memory_limit_mb,
            "repeats": self.repeats,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.timing:
            data["timing"] = self.timing
        return data

    def directory(self, workspace: Path) -> Path:
        """The iteration's source folder, resolved against the workspace."""
        return (workspace / self.source_path).resolve()


@dataclass(frozen=True)
class Tolerance:
    """How much a metric may get worse before a comparison calls it a regression.

    ``absolute`` is in the metric's unit; ``relative`` is a fraction of the
    earlier value (0.05 for 5%). When both are set, a change must exceed both.
    """

    absolute: float | None = None
    relative: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tolerance:
        return cls(absolute=data.get("absolute"), relative=data.get("relative"))

    def to_json(self) -> dict[str, float]:
        pairs = (("absolute", self.absolute), ("relative", self.relative))
        return {key: value for key, value in pairs if value is not None}


@dataclass(frozen=True)
class MetricDefinition:
    """What is measured, in which unit, which way is better, and by which class (if any).

    A definition without ``class_path`` is produced by a metric test.
    """

    id: str
    higher_is_better: bool
    unit: str
    name: str = ""
    description: str = ""
    type: str = ""
    class_path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    tolerance: Tolerance | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricDefinition:
        return cls(
            id=data["id"],
            higher_is_better=data["higher_is_better"],
            unit=data["unit"],
            name=data.get("name", ""),
            description=data.get("description", ""),
            type=data.get("type", ""),
            class_path=data.get("class"),
            options=dict(data.get("options") or {}),
            tolerance=Tolerance.from_json(data["tolerance"]) if "tolerance" in data else None,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
        }
        if self.class_path is not None:
            data["class"] = self.class_path
        if self.options:
            data["options"] = self.options
        if self.tolerance is not None:
            data["tolerance"] = self.tolerance.to_json()
        return data


@dataclass(frozen=True)
class RunDefinition:
    """A subset of iterations times a subset of metrics: one pytest session."""

    id: str
    iteration_ids: tuple[str, ...]
    metric_ids: tuple[str, ...]
    name: str = ""
    description: str = ""
    status: str | None = None
    created_at: str | None = None
    repeats: int | None = None
    seeds: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunDefinition:
        return cls(
            id=data["id"],
            iteration_ids=tuple(data["iteration_ids"]),
            metric_ids=tuple(data["metric_ids"]),
            name=data.get("name", ""),
            description=data.get("description", ""),
            status=data.get("status"),
            created_at=data.get("created_at"),
            repeats=data.get("repeats"),
            seeds=tuple(data.get("seeds", ())),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "iteration_ids": list(self.iteration_ids),
            "metric_ids": list(self.metric_ids),
        }
        optional = {"status": self.status, "created_at": self.created_at, "repeats": self.repeats}
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.seeds:
            data["seeds"] = list(self.seeds)
        return data

    def repeat_seeds(self, iteration: Iteration) -> list[int | None]:
        """The seed of each repeat of ``iteration`` in this run (None where no seed is given).

        The count is the iteration's ``repeats``, else the run's, else the number
        of seeds, else 1.

        >>> RunDefinition("r", ("v1",), ("m",), seeds=(0, 1)).repeat_seeds(Iteration("v1", ".", "main.py"))
        [0, 1]
        """
        count = iteration.repeats or self.repeats or len(self.seeds) or 1
        return [self.seeds[r] if r < len(self.seeds) else None for r in range(count)]


CODE_SUFFIXES = frozenset({".py", ".ipynb"})


def configuration_hash(iteration: Iteration, directory: Path) -> str:
    """A short hash of what makes an iteration's results comparable over time.

    Covers the entry point, the parameters and the code of its folder (``.py``
    and ``.ipynb`` files, names and contents). Data files and whatever the
    iteration writes into its folder do not count.
    """
    digest = hashlib.sha256(
        json.dumps(
            [iteration.entry_point, iteration.parameters], sort_keys=True, default=str
        ).encode()
    )
    for path in sorted(
        p for p in directory.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()
    ):
        digest.update(f"\0{path.relative_to(directory).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
