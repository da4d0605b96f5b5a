"""``apply_plan``: merge a checked plan into a workspace's files, all or nothing.

The plan is checked again against the workspace as it is now; then each new
iteration whose folder is missing gets a stub entry point (``run`` raises
``NotImplementedError`` until someone writes it), and each metric class a
model planned to write (``new_metric_classes``) a stub ``BaseMetric``
subclass in ``metrics/``; then the three definition
files are rewritten atomically; then ``Workspace.load`` checks the result. If
that final check fails, the files are restored and the stubs removed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.llm.plan import (
    KINDS,
    Existing,
    Plan,
    check_plan,
    new_metric_classes,
    planned_stubs,
)
from pytest_iterbench.workspace.files import forget_modules
from pytest_iterbench.workspace.loader import Workspace

STUB = '''"""Iteration {id!r}: planned by {planner}, not written yet.

{description}
"""


def run(parameters: dict) -> dict:
    raise NotImplementedError("iteration {id!r} was planned but its code is not written yet")
'''

METRIC_STUB = '''"""Metric class {name!r} (metric {id!r}): planned by {planner}, not written yet."""

from pytest_iterbench.metrics import BaseMetric


class {name}(BaseMetric):
    def measure(self, iteration_path, entry_point, parameters):
        raise NotImplementedError("metric class {name!r} was planned but its code is not written yet")
'''


@dataclass(frozen=True)
class AppliedPlan:
    """What ``apply_plan`` changed: ids added per file, folders created."""

    added: dict[str, list[str]] = field(default_factory=dict)
    created: list[Path] = field(default_factory=list)


def apply_plan(plan: Plan, workspace_dir: str | Path) -> AppliedPlan:
    """Merge ``plan`` into the workspace at ``workspace_dir``; ``PlanInvalid`` changes nothing."""
    root = Path(workspace_dir).resolve()
    check_plan(plan.to_json(), root)
    existing = Existing.read(root)
    documents, added = _merged(plan, existing)
    backups = {file: _read_text(root / file) for _, file in KINDS}
    created: list[Path] = []
    try:
        _scaffold(plan, root, created)
        for kind, file in KINDS:
            write_text_atomically(root / file, json.dumps(documents[kind], indent=2) + "\n")
        Workspace.load(root)
    except BaseException:
        _restore(root, backups, created)
        raise
    return AppliedPlan(added, created)


def _merged(
    plan: Plan, existing: Existing
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    documents: dict[str, dict[str, Any]] = {}
    added: dict[str, list[str]] = {}
    for kind, file in KINDS:
        document = dict(
            existing.documents.get(kind) or {"$schema": f"schemas/{file[:-5]}-schema.json"}
        )
        known = {entry["id"] for entry in existing.entries(kind)}
        new = [entry for entry in plan.entries(kind) if entry["id"] not in known]
        document[kind] = [*existing.entries(kind), *new]
        documents[kind] = document
        added[kind] = [entry["id"] for entry in new]
    return documents, added


def _scaffold(plan: Plan, root: Path, created: list[Path]) -> None:
    """Write the stub entry points of :func:`planned_stubs`; ``created`` gets each new top folder."""
    for iteration, entry in planned_stubs(plan.iterations, root):
        created.append(_topmost_missing(entry.parent, root))
        entry.parent.mkdir(parents=True, exist_ok=True)
        text = STUB.format(
            id=iteration["id"],
            planner=plan.planner,
            description=iteration.get("description") or iteration.get("name") or "",
        )
        entry.write_text(text, encoding="utf-8")
    document = plan.to_json()
    for index, module in new_metric_classes(document, root).items():
        metric = document["metrics"][index]
        created.append(module if module.parent.is_dir() else _topmost_missing(module.parent, root))
        module.parent.mkdir(parents=True, exist_ok=True)
        package = module.parent / "__init__.py"  # a package: no other "metrics" shadows it
        if not package.exists():
            package.write_text("", encoding="utf-8")
            created.append(package)
        name = metric["class"].rpartition(".")[2]
        module.write_text(
            METRIC_STUB.format(name=name, id=metric["id"], planner=plan.planner), encoding="utf-8"
        )
        forget_modules(module.parent.name)


def _topmost_missing(folder: Path, root: Path) -> Path:
    top = folder
    while not top.parent.exists() and top.parent != root:
        top = top.parent
    return top


def _read_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _restore(root: Path, backups: dict[str, str | None], created: list[Path]) -> None:
    for file, text in backups.items():
        if text is None:
            (root / file).unlink(missing_ok=True)
        else:
            write_text_atomically(root / file, text)
    for folder in created:
        if folder.is_file():
            folder.unlink()
        shutil.rmtree(folder, ignore_errors=True)
