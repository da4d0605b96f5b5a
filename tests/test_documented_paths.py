"""Every path a user is told to write imports: public names, class paths, doc imports.

The lists are read from the package's ``__all__`` and parsed from README.md,
docs/*.md and the example workspace's metrics.json, so a newly documented path
is tested without editing this file.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pytest_iterbench
import pytest_iterbench.api
from pytest_iterbench.workspace.files import importable_from

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOTTED = re.compile(r"\bpytest_iterbench(?:\.[A-Za-z_]\w*)+")
CLASS_VALUE = re.compile(r'"class":\s*"([A-Za-z_][\w.]*)"')
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXTRAS = {"anthropic", "httpx2"}  # the llm extra: documented paths that need it


def documented_texts() -> Iterator[tuple[str, str]]:
    for path in [*DOCUMENTS, ROOT / "metrics.json"]:
        yield path.name, path.read_text(encoding="utf-8")


def class_paths() -> list[str]:
    """Dotted ``pytest_iterbench.*`` names in the docs, and every ``"class"`` value there."""
    found: dict[str, None] = {}
    for _, text in documented_texts():
        found.update(dict.fromkeys(DOTTED.findall(text)))
        found.update(dict.fromkeys(CLASS_VALUE.findall(text)))
    metrics = json.loads((ROOT / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    found.update(dict.fromkeys(m["class"] for m in metrics if "class" in m))
    return sorted(found)


def import_statements() -> list[str]:
    """Each ``from pytest_iterbench... import ...`` (or ``import pytest_iterbench...``) in a Python block."""
    statements: list[str] = []
    for path in DOCUMENTS:
        for block in FENCE.findall(path.read_text(encoding="utf-8")):
            statements += _imports(block)
    return statements


def _imports(block: str) -> list[str]:
    statements, pending = [], ""
    for line in block.splitlines():
        if pending or re.match(r"(from|import) pytest_iterbench\b", line):
            pending += line.strip() + " "
            if "(" not in pending or ")" in pending:
                statements.append(pending.strip())
                pending = ""
    return statements


def resolve(dotted: str) -> Any:
    """The object at ``dotted``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            target: Any = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name in EXTRAS:
                pytest.skip(f"{dotted} needs the llm extra ({exc.name})")
            if exc.name != name:
                raise
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(f"no importable prefix of {dotted!r}")


@pytest.fixture
def workspace_importable():
    """The example workspace's root importable, as during a run; its modules forgotten after."""
    before = set(sys.modules)
    with importable_from(ROOT):
        yield
    for name in set(sys.modules) - before:
        if not name.startswith("pytest_iterbench"):
            del sys.modules[name]


def public_names(module: Any) -> list[str]:
    """``__all__``, else what the module defines under a name without a leading underscore."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


@pytest.mark.parametrize(
    ("module", "name"),
    [(m, name) for m in (pytest_iterbench, pytest_iterbench.api) for name in public_names(m)],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_every_public_name_resolves(module, name):
    assert getattr(module, name) is not None


@pytest.mark.parametrize("dotted", class_paths())
def test_every_documented_class_path_imports(dotted, workspace_importable):
    target = resolve(dotted)
    if dotted.rsplit(".", 1)[-1][:1].isupper():
        assert isinstance(target, type), f"{dotted} is {target!r}, expected a class"


@pytest.mark.parametrize("statement", import_statements())
def test_every_documented_import_line_imports(statement):
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        for alias in node.names:
            resolve(f"{node.module}.{alias.name}")
    else:
        assert isinstance(node, ast.Import)
        for alias in node.names:
            resolve(alias.name)


def test_the_parsers_find_the_known_paths():
    """A guard against a parser that silently finds nothing."""
    paths = class_paths()
    for known in (
        "pytest_iterbench.metrics.AccuracyMetric",
        "pytest_iterbench.llm.metrics.LlmCostMetric",
        "metrics.source_size.SourceLinesMetric",
    ):
        assert known in paths
    assert "execute_run" in public_names(pytest_iterbench.api)
    statements = import_statements()
    assert "from pytest_iterbench.report.gate import compare_sessions" in statements
    assert "from pytest_iterbench import BaseMetric, MetricResult" in statements
