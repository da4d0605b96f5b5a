"""``plan.json``: what a planner proposes to add to a workspace, and its checks.

A plan holds iterations, metrics and runs in the shape of the workspace files'
entries (``schemas/plan-schema.json`` refers to their schemas), plus where it
came from. ``check_plan`` validates the schema, then applies the workspace
loader's own cross-reference rules (:mod:`pytest_iterbench.workspace.references`)
to the workspace's entries followed by the plan's, so that a plan it accepts
loads once applied. Two rules are the plan's own: a planned folder may be
missing when applying the plan writes its stub, and a planned source path must
stay inside the workspace.

>>> plan = check_plan(document, Path("."))  # doctest: +SKIP
>>> [it["id"] for it in plan.iterations]  # doctest: +SKIP
['v3-random-forest']
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import PlanInvalid
from pytest_iterbench.workspace.files import load_document, read_json
from pytest_iterbench.workspace.paths import (
    ITERATIONS_FILE,
    METRICS_FILE,
    PLAN_FILE,
    RUNS_FILE,
    WorkspacePaths,
)
from pytest_iterbench.workspace.references import (
    WORKSPACE_FILES,
    Definitions,
    check_references,
    plan_only_problems,
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

    def definitions(self) -> Definitions:
        """The workspace's entries, each located in its file."""
        return Definitions.read(self.documents, WORKSPACE_FILES)

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
    document, problems = read_json(
        path, path.name
    )  # the workspace's reader: FIFOs, long ints, depth
    if problems:
        raise PlanInvalid(str(path), problems)
    return document


def check_plan(document: Any, root: Path, *, file: str = PLAN_FILE) -> Plan:
    """The plan in ``document``, checked against the workspace at ``root``; ``PlanInvalid`` else."""
    problems = plan_problems(document, Existing.read(root), file=file)
    if problems:
        raise PlanInvalid(file, problems)
    return Plan.from_json(document)


def plan_problems(document: Any, existing: Existing, *, file: str = PLAN_FILE) -> list[Problem]:
    """Every problem of a plan document: schema first, then cross-references (if the schema holds).

    The cross-references are the workspace's own rules
    (:mod:`~pytest_iterbench.workspace.references`) over the workspace's
    entries followed by the plan's, where the stubs that applying the plan
    writes count as present; then the plan-only rules.
    """
    problems = validate("plan", document, file)
    if problems:
        return problems
    planned = Definitions.planned(document, file)
    created = [entry for _, entry in planned_stubs(document["iterations"], existing.root)]
    found = check_references(existing.definitions() + planned, existing.root, created=created)
    to_write = {f"metrics[{i}].class" for i in new_metric_classes(document, existing.root)}
    problems = [p for p in found.problems if not (p.file == file and p.location in to_write)]
    return problems + plan_only_problems(planned)


def new_metric_classes(document: Mapping[str, Any], root: Path) -> dict[int, Path]:
    """The metric classes a model planner plans to write: metric index -> module file.

    A plan made by a model (its ``planner`` is not ``manual``) may name a
    class ``metrics.<module>.<Class>`` whose module is not in the
    workspace's ``metrics/`` folder yet: applying the plan writes a stub
    there and the orchestrator's implement step has the model write it. A
    hand-written plan may not: its classes must exist.
    """
    if document.get("planner") == "manual":
        return {}
    found: dict[int, Path] = {}
    folder = WorkspacePaths(root).metric_tests_dir
    for index, metric in enumerate(document.get("metrics", [])):
        parts = str(metric.get("class") or "").split(".")
        if len(parts) == 3 and parts[0] == folder.name and all(p.isidentifier() for p in parts):
            module = folder / f"{parts[1]}.py"
            if not module.exists():
                found[index] = module
    return found


def planned_stubs(
    iterations: Iterable[Mapping[str, Any]], root: Path
) -> list[tuple[Mapping[str, Any], Path]]:
    """The stub entry points applying a plan writes, as ``(iteration, file)`` pairs.

    A planned iteration gets a stub when its entry point is a ``.py`` file and
    its folder does not exist, nor is created by an earlier stub (the first
    iteration naming a folder gets it).
    """
    stubs: list[tuple[Mapping[str, Any], Path]] = []
    made: set[Path] = set()
    for iteration in iterations:
        folder = (root / iteration["source_path"]).resolve()
        if folder.exists() or folder in made or not iteration["entry_point"].endswith(".py"):
            continue
        entry = folder / iteration["entry_point"]
        made.update(entry.parents)
        stubs.append((iteration, entry))
    return stubs
