"""The package's layers: every import, deferred ones included, points down (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_iterbench"

#: Bottom to top. A module may import from its own layer's room or from any lower layer.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "atomic", "secrets", "lazy"}),
    frozenset({"workspace"}),
    frozenset({"execution"}),
    frozenset({"metrics"}),
    frozenset({"results"}),
    frozenset({"report"}),
    frozenset({"harness"}),
    frozenset({"llm"}),
    frozenset({"notebook"}),  # its claude-api solver drives the LLM layer
    frozenset({"kernel"}),  # the local planner model: above the LLM layer, registered by cli
    frozenset({"orchestrator"}),  # drives the planner, reviewer, harness and (later) notebooks
    frozenset({"studio"}),  # the web studio: plans, runs, live status, results
    frozenset({"hookspec", "plugin", "cli", "api", "__init__", "__main__"}),
)
#: Rooms of one layer that may not import each other (siblings, not a stack).
SIBLINGS: frozenset[str] = frozenset()


def room_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def level(room: str) -> int:
    return next(k for k, rooms in enumerate(LAYERS) if room in rooms)


def imported_rooms(path: Path) -> set[tuple[str, int]]:
    """(room, line) of every ``pytest_iterbench`` import in a module, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = (
                [node.module]
                if node.module != "pytest_iterbench"
                else [f"pytest_iterbench.{alias.name}" for alias in node.names]
            )
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pytest_iterbench" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_room_has_a_layer():
    rooms = {room_of(path) for path in MODULES}
    assert rooms <= set().union(*LAYERS), f"add to LAYERS: {rooms - set().union(*LAYERS)}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(module):
    mine = room_of(module)
    upward = [
        f"line {line}: {mine} imports {room}"
        for room, line in sorted(imported_rooms(module))
        if room != mine and (level(room) > level(mine) or (room in SIBLINGS and mine in SIBLINGS))
    ]
    assert not upward, "\n".join(upward)


def test_the_check_sees_a_deferred_upward_import(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from pytest_iterbench.harness.session import X\n")
    assert ("harness", 2) in imported_rooms(module)


def module_name(path: Path) -> str:
    parts = ["pytest_iterbench", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_edges() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (deferred imports included)."""
    known = {module_name(path) for path in MODULES}
    edges: dict[str, set[str]] = {}
    for path in MODULES:
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    targets.add(submodule if submodule in known else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        edges[module_name(path)] = {t for t in targets if t in known} - {module_name(path)}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    cycle = find_cycle(module_edges())
    assert cycle is None, " -> ".join(cycle or ())


def test_the_cycle_check_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
