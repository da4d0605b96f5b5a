"""Iteration logs kept bounded: head and tail of what was printed, never all of it.

The child writes whatever the iteration prints straight to its log file (C
extensions print at the file-descriptor level). When the execution ends,
:func:`bound_log` rewrites a log larger than :data:`LOG_LIMIT_BYTES` as its
first and last halves with a marker of what was dropped, and replaces known
secret values; only those two halves are ever read into memory. Readers use
:func:`read_tail` (a seek to the end) and :func:`clip_line`, so a 381 MB
one-line log costs neither memory nor a flooded terminal. :func:`prune_sessions`
keeps the logs of the last :data:`KEEP_SESSIONS` finished sessions.

>>> clip_line("x" * 1000, width=20)
'xxxxxxxxxxxxxxxxxxxx… [980 characters cut]'
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pytest_iterbench.secrets import Scrubber

LOG_LIMIT_BYTES = 4 * 2**20  # a kept log: at most 2 MiB of head and 2 MiB of tail
TAIL_READ_BYTES = 64 * 2**10  # what a failure's "last lines printed" reads at most
LINE_WIDTH = 400  # characters of one log line shown in a report or on the terminal
TEXT_LIMIT = 20_000  # characters of a reason or traceback kept in a record
KEEP_SESSIONS = 10


def bound_log(path: Path, scrubber: Scrubber, limit: int = LOG_LIMIT_BYTES) -> None:
    """Cut ``path`` to its head and tail (at most ``limit`` bytes) and scrub secrets from it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size <= limit and not scrubber:
        return
    half = limit // 2
    with path.open("rb") as handle:
        if size <= limit:
            head, tail = handle.read(), b""
        else:
            head = _cut_after_last_newline(handle.read(half))
            handle.seek(size - half)
            tail = _cut_before_first_newline(handle.read())
    kept = scrubber.scrub_bytes(head)
    if size > limit:
        dropped = size - len(head) - len(tail)
        marker = f"\n[iterbench: {dropped} bytes dropped from the middle of this log]\n"
        kept += marker.encode() + scrubber.scrub_bytes(tail)
    if size > limit or kept != head:
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(kept)
        os.replace(partial, path)


def _cut_after_last_newline(data: bytes) -> bytes:
    end = data.rfind(b"\n")
    return data if end < len(data) // 2 else data[: end + 1]


def _cut_before_first_newline(data: bytes) -> bytes:
    start = data.find(b"\n")
    return data if start < 0 or start > len(data) // 2 else data[start + 1 :]


def read_tail(path: Path, lines: int, max_bytes: int = TAIL_READ_BYTES) -> list[str]:
    """The last ``lines`` lines of ``path``, reading at most ``max_bytes`` from its end."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max_bytes))
            data = handle.read(max_bytes)
    except (FileNotFoundError, IsADirectoryError):
        return []
    text = data.decode("utf-8", errors="replace")
    return [clip_line(line) for line in text.splitlines()[-lines:]]


def clip_line(line: str, width: int = LINE_WIDTH) -> str:
    """One line shortened to ``width`` characters, saying how much was cut."""
    if len(line) <= width:
        return line
    return f"{line[:width]}… [{len(line) - width} characters cut]"


def clip_text(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    """A reason or traceback kept to its first ``limit`` characters."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} characters cut]"


def prune_sessions(sessions_dir: Path, keep: int = KEEP_SESSIONS) -> None:
    """Remove the scratch folders of finished sessions but the ``keep`` newest.

    A finished session's folder holds only ``*.log`` files (the session drops
    everything else at its end); a running session's holds locks and results,
    so a session that runs beside this one is never touched.
    """
    try:
        folders = [p for p in sessions_dir.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return
    finished = [p for p in folders if _only_logs(p)]
    finished.sort(key=_mtime, reverse=True)
    for folder in finished[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


def _only_logs(folder: Path) -> bool:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    return bool(entries) and all(p.is_file() and p.suffix == ".log" for p in entries)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
