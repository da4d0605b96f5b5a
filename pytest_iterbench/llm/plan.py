"""``plan.json``: what a planner proposes to add to a workspace, and its checks.

A plan holds iterations, metrics and runs in the shape of the workspace files'
entries (``schemas/plan-schema.json`` refers to their schemas), plus where it
came from. ``check_plan`` validates the schema, then the cross-references the
workspace loader checks, over the plan *and* the workspace it will join:
duplicate ids, unknown references, parent cycles, metric classes that do not
import; and, because applying a plan creates folders, source paths that leave
the workspace.

>>> plan = check_plan(document, Path("."))  # doctest: +SKIP
>>> [it["id"] for it in plan.iterations]  # doctest: +SKIP
['v3-random-forest']
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import PlanInvalid
from pytest_iterbench.workspace.loader import (
    ITERATIONS_FILE,
    METRICS_FILE,
    RUNS_FILE,
    import_object,
    importable_from,
    load_document,
)
from pytest_iterbench.workspace.schemas import schema_dir, validate

PlannerMode = Literal["manual", "claude-api", "kernel"]
KINDS = (("iterations", ITERATIONS_FILE), ("metrics", METRICS_FILE), ("runs", RUNS_FILE))
ANSWER_KEYS = ("rationale", "iterations", "metrics", "runs")


@functools.cache
def _schemas() -> dict[str, dict[str, Any]]:
    names = ("plan", "iterations", "metrics", "runs")
    return {
        name: json.loads((schema_dir() / f"{name}-schema.json").read_text(encoding="utf-8"))
        for name in names
    }


def answer_schema() -> dict[str, Any]:
    """The JSON Schema of the part of a plan a model writes, self-contained (no ``$ref``).

    Used as the ``input_schema`` of the planner's tool.
    """
    plan = _schemas()["plan"]
    properties = {key: _inline(plan["properties"][key], "plan") for key in ANSWER_KEYS}
    return {
        "type": "object",
        "required": list(ANSWER_KEYS),
        "additionalProperties": False,
        "properties": properties,
    }


def _inline(node: Any, schema: str) -> Any:
    """``node`` with every ``$ref`` (local or to a sibling schema file) replaced by its target."""
    if isinstance(node, list):
        return [_inline(item, schema) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target_file, _, pointer = node["$ref"].partition("#")
        target = target_file.removesuffix("-schema.json") or schema
        resolved: Any = _schemas()[target]
        for part in pointer.strip("/").split("/"):
            resolved = resolved[part]
        return _inline(copy.deepcopy(resolved), target)
    return {key: _inline(value, schema) for key, value in node.items()}


@dataclass(frozen=True)
class Plan:
    """A validated plan; entries are plain JSON, as in the workspace files."""

    description: str
    source: dict[str, Any]
    planner: PlannerMode
    created_at: str
    iterations: tuple[dict[str, Any], ...]
    metrics: tuple[dict[str, Any], ...]
    runs: tuple[dict[str, Any], ...]
    model: str | None = None
    rationale: str = ""
    cost: dict[str, Any] | None = None

    def entries(self, kind: str) -> tuple[dict[str, Any], ...]:
        entries: tuple[dict[str, Any], ...] = getattr(self, kind)
        return entries

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "$schema": "schemas/plan-schema.json",
            "plan_version": 1,
            "description": self.description,
            "source": self.source,
            "planner": self.planner,
            "model": self.model,
            "created_at": self.created_at,
            "rationale": self.rationale,
            "iterations": list(self.iterations),
            "metrics": list(self.metrics),
            "runs": list(self.runs),
        }
        if self.cost is not None:
            data["cost"] = self.cost
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            description=data["description"],
            source=dict(data["source"]),
            planner=data["planner"],
            created_at=data["created_at"],
            iterations=tuple(data["iterations"]),
            metrics=tuple(data["metrics"]),
            runs=tuple(data["runs"]),
            model=data.get("model"),
            rationale=data.get("rationale", ""),
            cost=data.get("cost"),
        )


@dataclass(frozen=True)
class Existing:
    """The entries a workspace already holds (empty lists for files it lacks)."""

    root: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def entries(self, kind: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.documents.get(kind, {}).get(kind, [])
        return entries

    @classmethod
    def read(cls, root: Path) -> Existing:
        """The workspace's definition files, each schema-validated (``WorkspaceError`` else)."""
        root = Path(root).resolve()
        documents = {
            kind: load_document(root / file, kind)  # type: ignore[arg-type]
            for kind, file in KINDS
            if (root / file).is_file()
        }
        return cls(root, documents)


def read_plan_file(path: Path) -> Any:
    """A plan file's JSON; ``PlanInvalid`` (with line and column) when it does not parse."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanInvalid(str(path), [Problem(path.name, "", "file not found")]) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise PlanInvalid(
            str(path), [Problem(path.name, where, f"invalid JSON: {exc.msg}")]
        ) from None


def check_plan(document: Any, root: Path, *, file: str = "plan.json") -> Plan:
    """The plan in ``document``, checked against the workspace at ``root``; ``PlanInvalid`` else."""
    problems = plan_problems(document, Existing.read(root), file=file)
    if problems:
        raise PlanInvalid(file, problems)
    return Plan.from_json(document)


def plan_problems(document: Any, existing: Existing, *, file: str = "plan.json") -> list[Problem]:
    """Every problem of a plan document: schema first, then cross-references (if the schema holds)."""
    problems = validate("plan", document, file)
    if problems:
        return problems
    return list(_CrossReferences(document, existing, file).problems())


class _CrossReferences:
    """The workspace loader's rules, applied to the plan merged with the workspace."""

    def __init__(self, document: dict[str, Any], existing: Existing, file: str) -> None:
        self.plan = document
        self.existing = existing
        self.file = file

    def problems(self) -> Iterator[Problem]:
        yield from self._duplicates()
        yield from self._parents()
        yield from self._sources()
        yield from self._metric_classes()
        yield from self._run_references()

    def _problem(self, location: str, message: str) -> Problem:
        return Problem(self.file, location, message)

    def _merged(self, kind: str) -> dict[str, dict[str, Any]]:
        merged = {e["id"]: e for e in self.existing.entries(kind)}
        merged.update({e["id"]: e for e in self.plan[kind]})
        return merged

    def _duplicates(self) -> Iterator[Problem]:
        for kind, file in KINDS:
            existing = {e["id"]: e for e in self.existing.entries(kind)}
            first: dict[str, int] = {}
            for index, entry in enumerate(self.plan[kind]):
                where = f"{kind}[{index}].id"
                if entry["id"] in first:
                    yield self._problem(
                        where,
                        f"duplicate id {entry['id']!r} (first defined at {kind}[{first[entry['id']]}])",
                    )
                elif entry["id"] in existing and existing[entry["id"]] != entry:
                    yield self._problem(
                        where,
                        f"id {entry['id']!r} is already defined in {file} with different content; choose a new id",
                    )
                first.setdefault(entry["id"], index)

    def _parents(self) -> Iterator[Problem]:
        merged = self._merged("iterations")
        for index, iteration in enumerate(self.plan["iterations"]):
            parent = iteration.get("parent")
            if parent is None:
                continue
            where = f"iterations[{index}].parent"
            if parent not in merged:
                yield self._problem(where, f"unknown iteration {parent!r}; known: {_known(merged)}")
            elif (cycle := _cycle(iteration["id"], merged)) is not None:
                yield self._problem(where, f"parent cycle: {' -> '.join(cycle)}")

    def _sources(self) -> Iterator[Problem]:
        for index, iteration in enumerate(self.plan["iterations"]):
            source = PurePosixPath(iteration["source_path"].replace("\\", "/"))
            if source.is_absolute() or ".." in source.parts:
                yield self._problem(
                    f"iterations[{index}].source_path",
                    f"expected a folder inside the workspace, found {iteration['source_path']!r}",
                )
            if PurePosixPath(iteration["entry_point"]).suffix not in (".py", ".ipynb"):
                yield self._problem(
                    f"iterations[{index}].entry_point",
                    f"expected a .py or .ipynb file, found {iteration['entry_point']!r}",
                )

    def _metric_classes(self) -> Iterator[Problem]:
        with importable_from(self.existing.root):
            for index, metric in enumerate(self.plan["metrics"]):
                if "class" not in metric:
                    continue
                try:
                    import_object(metric["class"])
                except Exception as exc:  # any import-time failure is the planner's to see
                    yield self._problem(
                        f"metrics[{index}].class",
                        f"cannot import {metric['class']!r}: {type(exc).__name__}: {exc}",
                    )

    def _run_references(self) -> Iterator[Problem]:
        known = {kind: self._merged(kind) for kind in ("iterations", "metrics")}
        for index, run in enumerate(self.plan["runs"]):
            for key, kind in (("iteration_ids", "iterations"), ("metric_ids", "metrics")):
                for position, ref in enumerate(run[key]):
                    if ref not in known[kind]:
                        noun = kind[:-1]
                        yield self._problem(
                            f"runs[{index}].{key}[{position}]",
                            f"unknown {noun} {ref!r}; known: {_known(known[kind])}",
                        )


def _cycle(start: str, iterations: dict[str, dict[str, Any]]) -> list[str] | None:
    chain = [start]
    current = iterations[start].get("parent")
    while current is not None and current in iterations and current not in chain:
        chain.append(current)
        current = iterations[current].get("parent")
    return [*chain, start] if current == start else None


def _known(entries: Sequence[str] | dict[str, Any]) -> str:
    return ", ".join(entries) if entries else "(none)"
