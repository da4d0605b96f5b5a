"""Writing a file so that a reader sees the old or the new version, never half of one.

Used for everything the harness rewrites in place: ``results.json``, the
workspace's definition files when a plan is applied, ``plan.json``,
``state.json`` and completed notebooks.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a partial file beside ``path``, flush it to disk, rename it over ``path``.

    The folder is synced too, so the rename itself survives a crash.
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
