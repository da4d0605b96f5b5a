"""Schema checks that passed, remembered by content: an unchanged definition file is not checked again.

Checking ``iterations.json``, ``metrics.json`` and ``runs.json`` against their
JSON Schemas imports jsonschema and builds a validator per file: 60 to 170 ms
of every session's start, for files that rarely change between sessions.

``.iterbench/schema-checks.json`` keeps, for each kind of file, the SHA-256 of
the last text whose check passed, mixed with the bytes of every shipped schema
and jsonschema's version. The check is a function of exactly those, so the
same digest means the same verdict: the check is skipped only for a text
identical to byte. A changed byte, another schema or jsonschema, a memo that is
missing, unreadable or malformed: the file is checked in full. Only passing
checks are remembered, and only once the session is sure to run (an invalid
workspace, or an unknown run, writes nothing), so a file with a problem is
checked (and reported) every time. The value checks that need no schema run on every read.

A memo that cannot be written costs a check at the next session, nothing
else; two sessions that write it at once leave one of their two versions whole
(atomic replace).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from pathlib import Path

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.workspace.schemas import SCHEMA_NAMES, SchemaName, schema_dir

MEMO_FILE = "schema-checks.json"


class SchemaMemo:
    """The digests of the definition files whose schema check passed, in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / MEMO_FILE
        self._digests = _read(self.path)
        self._changed = False

    def passed(self, name: SchemaName, text: str) -> bool:
        """Whether exactly this text of this kind of file passed its schema check before."""
        return self._digests.get(name) == _digest(name, text)

    def remember(self, name: SchemaName, text: str) -> None:
        """Record that this text passed its schema check (written by :meth:`save`)."""
        digest = _digest(name, text)
        if self._digests.get(name) != digest:
            self._digests[name], self._changed = digest, True

    def save(self) -> None:
        """Write the memo if it changed; a failure to write is not an error."""
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(self.path, json.dumps(self._digests, indent=2, sort_keys=True))
        except OSError:
            return
        self._changed = False


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _digest(name: SchemaName, text: str) -> str:
    digest = hashlib.sha256(_checker_fingerprint())
    digest.update(name.encode())
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@functools.cache
def _checker_fingerprint() -> bytes:
    """What a schema check's verdict depends on besides the text: the schemas and jsonschema."""
    digest = hashlib.sha256()
    try:
        digest.update(importlib.metadata.version("jsonschema").encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"jsonschema: unknown version")
    for name in SCHEMA_NAMES:
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update((schema_dir() / f"{name}-schema.json").read_bytes())
    return digest.digest()
