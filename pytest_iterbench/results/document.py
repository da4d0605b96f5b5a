"""The bytes of ``results.json``: its one-record-per-line layout, appends in place, and repair.

The layout is the seed's document, one record per line::

    {
      "$schema": "schemas/results-schema.json",
      "results": [
        {record},
        {record}
      ]
    }

Every byte before the closing ``\\n  ]\\n}\\n`` is final: an append replaces
only the closing, with one ``pwrite`` of ``,\\n    {new},\\n    {new}\\n  ]\\n}\\n``.
So an append costs what is appended, and the file is a valid document before
and after it. A write cut short (a kill, a full disk, a power cut) leaves a tail
that :func:`repair_tail` cuts back to the last complete record line and closes
again; what it drops is still in the journals, which are removed only after the
append was flushed to disk. ``docs/results.md`` states the whole argument.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically

RESULTS_SCHEMA_REF = "schemas/results-schema.json"
CLOSING = b"\n  ]\n}\n"
OPENING = b'  "results": [\n'
RECORD_INDENT = b"    "
#: How much of the end of the file the tail check and the repair read.
TAIL_BYTES = 1 << 16


#: One encoder for every record line (``json.dumps`` builds a new one at each call).
_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def dump_record(record: dict[str, Any]) -> str:
    """One record as its line's JSON (no NaN or infinity: JSON has neither)."""
    return _RECORD_ENCODER.encode(record)


def _dump_as_read(record: Any) -> str:
    try:
        line = dump_record(record)
        line.encode("utf-8")
    except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
        return json.dumps(record)
    return line


def dump_results(
    records: Iterable[dict[str, Any]],
    schema_ref: str | None = RESULTS_SCHEMA_REF,
    *,
    as_read: bool = False,
) -> str:
    """Serialise results with one record per line, so appends show as added lines in a diff.

    With ``as_read`` (re-laying a file), a record that JSON cannot hold
    strictly (a NaN, a lone surrogate: a hand edit) is kept as it was read,
    escaped, rather than refused; readers skip it with a warning naming its line.
    """
    lines = [(_dump_as_read if as_read else dump_record)(record) for record in records]
    head = f'  "$schema": {json.dumps(schema_ref)},\n' if schema_ref else ""
    body = ",\n".join(f"    {line}" for line in lines)
    return "{\n" + head + '  "results": [\n' + body + ("\n" if lines else "") + "  ]\n}\n"


@dataclass(frozen=True)
class Tail:
    """Where an append goes: the offset of the closing, and whether a record precedes it."""

    offset: int
    empty: bool

    def append_bytes(self, lines: list[bytes]) -> bytes:
        """The bytes that replace the closing: the new record lines, then the closing again."""
        body = b",\n".join(RECORD_INDENT + line for line in lines)
        return (b"" if self.empty else b",\n") + body + CLOSING

    def line_offsets(self, lines: list[bytes]) -> list[int]:
        """Where each of ``lines`` starts in the file once :meth:`append_bytes` is written at :attr:`offset`."""
        offsets = []
        position = self.offset + (0 if self.empty else 2)
        for line in lines:
            offsets.append(position)
            position += len(RECORD_INDENT) + len(line) + 2
        return offsets


def _read_end(fd: int, size: int, length: int = TAIL_BYTES) -> tuple[int, bytes]:
    start = max(0, size - length)
    return start, os.pread(fd, size - start, start)


def find_tail(fd: int) -> Tail | None:
    """The closing of a well-formed file, from its last lines; None when the end is not ours."""
    size = os.fstat(fd).st_size
    start, end = _read_end(fd, size)
    if not end.endswith(CLOSING):
        return None
    lines = end[: -len(CLOSING)].split(b"\n")
    last = lines[-1]
    if (start > 0 or len(lines) > 1) and _object_line(last):
        return Tail(size - len(CLOSING), empty=False)
    if last + b"\n" == OPENING and (start == 0 and _opening_precedes(lines, len(lines) - 1)):
        return Tail(size - len(CLOSING) + 1, empty=True)
    return None


def record_line(line: bytes) -> dict[str, Any] | None:
    """The record a line of the file holds, or None when it holds no complete record line."""
    if not line.startswith(RECORD_INDENT + b"{"):
        return None
    text = line[len(RECORD_INDENT) :]
    if text.endswith(b","):
        text = text[:-1]
    if not text.endswith(b"}"):
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _object_line(line: bytes) -> bool:
    """Whether a line is one complete object in the record layout, valid record or not (a NaN in it)."""
    if record_line(line) is not None:
        return True
    text = line[len(RECORD_INDENT) :].removesuffix(b",")
    if not line.startswith(RECORD_INDENT + b"{") or not text.endswith(b"}"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _record_prefix(line: bytes) -> int | None:
    """The length of the complete record a line starts with (an append cut short may follow it)."""
    if not line.startswith(RECORD_INDENT + b"{"):
        return None
    try:
        text = line[len(RECORD_INDENT) :].decode("utf-8", errors="strict")
        value, end = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    return len(RECORD_INDENT) + len(text[:end].encode("utf-8"))


@dataclass(frozen=True)
class Repair:
    """A cut tail closed again: where the file now ends, and the bytes dropped."""

    size: int
    dropped: bytes


def repair_tail(fd: int) -> Repair | None:
    """Cut a torn tail back to its last complete record and close it; None if it is not ours.

    Ours means: a complete record line (or this layout's opening, when no record
    survived), then only what a cut append leaves: at most one unfinished line,
    pieces of the closing, NUL bytes. Anything else (a file edited by hand,
    another layout) is left as it is.
    """
    size = os.fstat(fd).st_size
    start, end = _read_end(fd, size)
    keep = _last_complete(end, whole=start == 0)
    if keep is None:
        return None
    cut, empty = keep
    closing = CLOSING[1:] if empty else CLOSING
    os.pwrite(fd, closing, start + cut)
    os.ftruncate(fd, start + cut + len(closing))
    os.fsync(fd)
    return Repair(start + cut + len(closing), end[cut:])


def closed_prefix(fd: int) -> bytes | None:
    """The document :func:`repair_tail` would leave, without writing: None if the end is not a cut append.

    For readers of a file whose last append was cut short (a kill, a full
    disk) and not yet repaired: the bytes up to the last complete record,
    closed again.
    """
    size = os.fstat(fd).st_size
    start, end = _read_end(fd, size)
    keep = _last_complete(end, whole=start == 0)
    if keep is None:
        return None
    cut, empty = keep
    return os.pread(fd, start + cut, 0) + (CLOSING[1:] if empty else CLOSING)


_DEBRIS = (b"", b"]", b"}")


def _last_complete(end: bytes, whole: bool) -> tuple[int, bool] | None:
    """Offset in ``end`` just after the last complete record (or the opening), and whether none is."""
    lines = end.split(b"\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    unfinished = 0
    for index in range(len(lines) - 1, -1 if whole else 0, -1):
        line = lines[index]
        record_end = _record_prefix(line)
        if record_end is not None:
            return starts[index] + record_end, False
        if line + b"\n" == OPENING and index < len(lines) - 1 and _opening_precedes(lines, index):
            return starts[index] + len(line) + 1, True
        if line.strip(b"\0 ") in _DEBRIS:
            continue
        # An unfinished line is the end of a cut write, or a page that never reached the disk.
        unfinished += 1
        if unfinished > 1 or (index < len(lines) - 1 and b"\0" not in line):
            return None  # a broken line inside a closed document: not a cut append
    return None


def _opening_precedes(lines: list[bytes], index: int) -> bool:
    """Whether the lines before ``"results": [`` are this layout's head."""
    head = lines[:index]
    return head[:1] == [b"{"] and all(h.startswith(b'  "$schema"') for h in head[1:])


def iter_lines(fd: int, start: int, end: int, chunk: int = 1 << 22) -> Iterator[tuple[int, bytes]]:
    """(offset, line without its newline) of every complete line in [start, end), streamed."""
    offset = start
    pending = b""
    while offset < end:
        data = os.pread(fd, min(chunk, end - offset), offset)
        if not data:
            break
        data = pending + data
        base = offset - len(pending)
        offset += len(data) - len(pending)
        lines = data.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield base, line
            base += len(line) + 1


def create(path: Path, records: list[dict[str, Any]]) -> None:
    """Write a new file holding ``records`` (a rename: a reader sees no file or all of it)."""
    write_text_atomically(path, dump_results(records))


def flush_folder(path: Path) -> None:
    """Make a rename or an unlink in ``path``'s folder durable."""
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
