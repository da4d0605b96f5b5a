"""An iteration's code, highlighted by Pygments, and its diff against its parent's.

Only files inside the iteration's own folder are shown: a requested name is
resolved and must stay under that folder (no ``..``, no absolute path, no
symbolic link leading out), else :class:`OutsideFolder`. The highlighting is
done here, on the server, so the page needs no script for it.

>>> iteration_code(Path("."), "v1-baseline", "main.py")["html"][:4]  # doctest: +SKIP
'<div'
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Final

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.report.lineage import parameter_changes
from pytest_iterbench.workspace.loader import Workspace

#: Files larger than this are not shown (a data file in an iteration's folder).
MAX_BYTES: Final = 512 * 1024
MAX_FILES: Final = 200
CODE_SUFFIXES: Final = frozenset(
    {".py", ".ipynb", ".json", ".toml", ".yaml", ".yml", ".txt", ".md", ".cfg", ".sh"}
)


class OutsideFolder(IterbenchError):
    """A requested file lies outside the iteration's folder (or does not exist)."""


def css() -> str:
    """The stylesheet of the highlighted code (Pygments' default style)."""
    return str(HtmlFormatter(style="default").get_style_defs(".highlight"))


def _folder(root: Path, iteration_id: str) -> tuple[Workspace, Path]:
    workspace = Workspace.load(root)
    if iteration_id not in workspace.iterations:
        raise OutsideFolder(f"unknown iteration {iteration_id!r}")
    return workspace, workspace.iterations[iteration_id].directory(workspace.root)


def safe_file(folder: Path, name: str) -> Path:
    """``folder / name`` if it is a file inside ``folder`` once resolved; ``OutsideFolder`` else."""
    candidate = (folder / name).resolve()
    if not candidate.is_relative_to(folder.resolve()) or Path(name).is_absolute():
        raise OutsideFolder(f"{name!r}: not a file inside {folder.name}/")
    if not candidate.is_file():
        raise OutsideFolder(f"{name!r}: no such file in {folder.name}/")
    return candidate


def list_files(folder: Path) -> list[str]:
    """The folder's code files (relative, sorted), hidden folders and caches left out."""
    names = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        hidden = any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
        if path.is_file() and not hidden and path.suffix in CODE_SUFFIXES:
            names.append(relative.as_posix())
        if len(names) >= MAX_FILES:
            break
    return names


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        return f"(not shown: {path.stat().st_size} bytes, more than {MAX_BYTES})\n"
    return path.read_text(encoding="utf-8", errors="replace")


def _lexer(name: str) -> Any:
    try:
        return get_lexer_for_filename(name)
    except ClassNotFound:
        return TextLexer()


def iteration_code(root: Path, iteration_id: str, name: str | None = None) -> dict[str, Any]:
    """One file of the iteration (default: its entry point), highlighted, and its diff against the parent's."""
    workspace, folder = _folder(root, iteration_id)
    iteration = workspace.iterations[iteration_id]
    name = name or iteration.entry_point
    path = safe_file(folder, name)
    text = _read(path)
    answer: dict[str, Any] = {
        "iteration_id": iteration_id,
        "file": name,
        "files": list_files(folder),
        "html": highlight(text, _lexer(name), HtmlFormatter(linenos="table")),
        "parent": iteration.parent,
        "diff_html": None,
        "parameter_changes": [],
    }
    if iteration.parent in workspace.iterations:
        parent = workspace.iterations[iteration.parent]
        answer["diff_html"] = _diff(workspace, iteration.parent, name, text)
        answer["parameter_changes"] = parameter_changes(parent.parameters, iteration.parameters)
    return answer


def _diff(workspace: Workspace, parent: str, name: str, text: str) -> str:
    parent_folder = workspace.iterations[parent].directory(workspace.root)
    try:
        before = _read(safe_file(parent_folder, name))
    except OutsideFolder:
        before = ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{parent}/{name}",
        tofile=name,
    )
    diff = "".join(lines) or f"(no change from {parent}/{name})\n"
    return str(highlight(diff, DiffLexer(), HtmlFormatter()))
