"""Notebook files, typed: read, write atomically, make a code cell.

nbformat's functions are untyped; this module is the one place that says what
they return, so the rest of the package stays ``mypy --strict`` clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.notebook.errors import NotebookReadError


def read_notebook(path: Path) -> NotebookNode:
    """Read an ``.ipynb`` file as nbformat 4; ``NotebookReadError`` if it is not one."""
    try:
        nb = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"not a readable notebook: {exc}", notebook=path) from exc
    return cast(NotebookNode, nb)


def reads_notebook(data: bytes, where: Path) -> NotebookNode:
    """Parse a notebook's bytes (``where`` names it in errors)."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)  # type: ignore[no-untyped-call]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"not a readable notebook: {exc}", notebook=where) from exc
    return cast(NotebookNode, nb)


def write_notebook(path: Path, nb: NotebookNode) -> None:
    """Write ``nb`` to ``path`` atomically (a partial file renamed over it)."""
    write_text_atomically(path, nbformat.writes(nb))  # type: ignore[no-untyped-call]


def code_cell(source: str, metadata: dict[str, Any] | None = None) -> NotebookNode:
    """A new code cell."""
    return cast(NotebookNode, new_code_cell(source, metadata=metadata or {}))  # type: ignore[no-untyped-call]
