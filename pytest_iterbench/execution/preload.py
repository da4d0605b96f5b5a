"""Which modules the process template pre-imports.

``auto`` (the default) reads the top-level imports of the run's iterations and
keeps the installed third-party packages among them, so the import cost of
numpy, scikit-learn or torch is paid once per session rather than once per
iteration. Modules that live in an iteration's own folder are never
pre-imported: that would break the isolation between iterations.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path


def imported_modules(source: str) -> set[str]:
    """Module names imported anywhere in ``source`` (absolute imports only).

    >>> sorted(imported_modules("import numpy as np\\nfrom sklearn.svm import SVC\\nfrom . import x"))
    ['numpy', 'sklearn.svm']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _local_names(directory: Path) -> set[str]:
    return {path.stem for path in directory.glob("*.py")} | {
        path.name for path in directory.iterdir() if path.is_dir()
    }


def _is_installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def auto_preload(directories: Iterable[Path]) -> list[str]:
    """Modules of installed third-party packages imported by the Python files of ``directories``.

    Only top-level packages are looked up here (finding a submodule would import
    its package into this process); the template reports what it cannot import.
    """
    imported: set[str] = set()
    local: set[str] = set()
    for directory in directories:
        if not directory.is_dir():
            continue
        local |= _local_names(directory)
        for path in directory.rglob("*.py"):
            imported |= imported_modules(path.read_text(encoding="utf-8", errors="replace"))
    excluded = local | set(sys.stdlib_module_names)
    installed = {
        top for top in {name.split(".")[0] for name in imported} - excluded if _is_installed(top)
    }
    return sorted(name for name in imported if name.split(".")[0] in installed)


def resolve_preload(setting: list[str], directories: Iterable[Path]) -> list[str]:
    """The modules to pre-import for a setting of ``iterbench_preload``.

    ``["auto"]`` detects them; ``["none"]`` or an empty list pre-imports nothing;
    anything else is taken as a list of module names, and ``auto`` in it adds
    the detected ones.
    """
    names = [name for name in setting if name != "none"]
    if "auto" in names:
        names = [name for name in names if name != "auto"] + auto_preload(directories)
    return list(dict.fromkeys(names))
