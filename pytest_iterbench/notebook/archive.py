"""Archive an input notebook: ``input/`` to ``done/``, atomically, never overwriting.

The move is a ``rename`` (one atomic step on one filesystem) to a hidden
staging name in ``done/``; the staged file's hash must be the one the
processor read, else it goes back and nothing is archived. Then it is
hard-linked to its final name, which fails rather than replace an earlier
archive: a name already taken becomes ``hw1-2.ipynb``, ``hw1-3.ipynb``...
A run killed between the two steps leaves the staged file, which the next run
finishes archiving.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from pytest_iterbench.notebook.errors import ArchiveError
from pytest_iterbench.notebook.state import content_hash

_STAGING_SUFFIX = ".archiving"


def _staged(done: Path, name: str) -> list[Path]:
    return sorted(done.glob(f".{name}.*{_STAGING_SUFFIX}"))


def _link_free_name(staged: Path, done: Path, name: str) -> Path:
    stem, suffix = os.path.splitext(name)
    for number in range(1, 10_000):
        final = done / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            os.link(staged, final)
        except FileExistsError:
            continue
        staged.unlink()
        return final
    raise ArchiveError(f"no free name left in {done} for {name}", notebook=name)


def _stage(source: Path, done: Path) -> Path:
    staged = done / f".{source.name}.{uuid.uuid4().hex[:8]}{_STAGING_SUFFIX}"
    try:
        os.rename(source, staged)
    except FileNotFoundError as exc:
        raise ArchiveError(
            f"vanished from {source.parent} before it was archived", notebook=source
        ) from exc
    return staged


def archive_input(source: Path, done: Path, expected_sha256: str) -> Path:
    """Move ``source`` into ``done`` if it still holds what was read; return where it went."""
    done.mkdir(parents=True, exist_ok=True)
    leftovers = [p for p in _staged(done, source.name) if content_hash(p) == expected_sha256]
    if leftovers and not source.exists():  # an earlier run was killed half-way through
        return _link_free_name(leftovers[0], done, source.name)
    staged = _stage(source, done)
    if content_hash(staged) != expected_sha256:
        with contextlib.suppress(OSError):
            if not source.exists():
                os.rename(staged, source)
        raise ArchiveError(
            "changed since it was read (its content hash differs): not archived; run again to process the new content",
            notebook=source,
        )
    return _link_free_name(staged, done, source.name)
