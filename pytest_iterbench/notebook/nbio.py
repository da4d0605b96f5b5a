"""Notebook files, typed: read, write atomically, make a code cell.

nbformat's functions are untyped; this module is the one place that says what
they return, so the rest of the package stays ``mypy --strict`` clean.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbformat.warnings import MissingIDFieldWarning

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.notebook.errors import NotebookReadError


@contextlib.contextmanager
def _quiet_ids() -> Iterator[None]:
    """nbformat gives cells without an id one as it reads them; its warning saying so is noise
    in the middle of progress lines (the ids are normalised, the input file is untouched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        yield


def read_notebook(path: Path) -> NotebookNode:
    """Read an ``.ipynb`` file as nbformat 4; ``NotebookReadError`` if it is not one."""
    try:
        with _quiet_ids():
            nb = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"not a readable notebook: {exc}", notebook=path) from exc
    return cast(NotebookNode, nb)


def reads_notebook(data: bytes, where: Path) -> NotebookNode:
    """Parse a notebook's bytes (``where`` names it in errors)."""
    try:
        with _quiet_ids():
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)  # type: ignore[no-untyped-call]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"not a readable notebook: {exc}", notebook=where) from exc
    return cast(NotebookNode, nb)


def write_notebook(path: Path, nb: NotebookNode) -> None:
    """Write ``nb`` to ``path`` atomically (a partial file renamed over it)."""
    with _quiet_ids():
        text = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    write_text_atomically(path, text)


def code_cell(source: str, metadata: dict[str, Any] | None = None) -> NotebookNode:
    """A new code cell."""
    return cast(NotebookNode, new_code_cell(source, metadata=metadata or {}))  # type: ignore[no-untyped-call]
