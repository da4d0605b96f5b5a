"""What a planner plans from: a description text, or an assignment notebook's digest.

A notebook is read as JSON (cells and their sources) and turned into text the
model reads; nothing is executed. The notebook processor (its own issue)
brings nbformat for writing notebooks; reading the cells needs nothing more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.errors import PlanInvalid

MAX_NOTEBOOK_CHARS = 60_000


@dataclass(frozen=True)
class PlanTask:
    """The task to plan: ``description`` (recorded in the plan), ``text`` (what the model reads)."""

    description: str
    text: str
    source: dict[str, Any] = field(default_factory=lambda: {"kind": "description"})

    @classmethod
    def from_description(cls, description: str) -> PlanTask:
        return cls(description.strip(), description.strip())

    @classmethod
    def from_notebook(cls, path: Path) -> PlanTask:
        """The notebook's markdown and code cells, as numbered text (cut at ``MAX_NOTEBOOK_CHARS``)."""
        cells = _cells(path)
        parts = [f"### cell {n} ({kind})\n{source}" for n, (kind, source) in enumerate(cells, 1)]
        text = "\n\n".join(parts)
        if len(text) > MAX_NOTEBOOK_CHARS:
            text = text[:MAX_NOTEBOOK_CHARS] + "\n\n[notebook cut here: too long]"
        title = next(
            (s.splitlines()[0].lstrip("# ") for k, s in cells if k == "markdown" and s), ""
        )
        description = f"assignment notebook {path.name}" + (f": {title}" if title else "")
        return cls(
            description,
            f"Assignment notebook {path.name}:\n\n{text}",
            {"kind": "notebook", "path": str(path)},
        )


def _cells(path: Path) -> list[tuple[str, str]]:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        return [
            (c["cell_type"], _source(c.get("source", "")))
            for c in cells
            if c.get("cell_type") in ("markdown", "code")
        ]
    except FileNotFoundError:
        problem = Problem(str(path), "", "notebook not found")
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        problem = Problem(str(path), "", f"not a readable notebook: {type(exc).__name__}: {exc}")
    raise PlanInvalid(str(path), [problem])


def _source(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source
