"""The Claude API key: where it comes from, and how it is kept out of everything written.

Order (first found wins): ``--claude-api-key`` (accepted for the seed's sake;
it lands in shell history, so the CLI warns), then the environment
(``ANTHROPIC_API_KEY``, or the seed's ``CLAUDE_API_KEY``), then a ``.env``
file (the workspace's, then the current directory's). The key lives in an
``ApiKey`` whose ``repr`` and ``str`` never show it; ``Redactor`` scrubs it
from any text the layer writes or raises.

>>> key = ApiKey("sk-ant-example-0123456789")
>>> key
ApiKey('sk-a…(redacted)')
>>> Redactor([key]).scrub("header: Bearer sk-ant-example-0123456789")
'header: Bearer [REDACTED]'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_iterbench.llm.errors import ApiKeyMissing

ENV_NAMES = ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY")
DOTENV_NAME = ".env"
REDACTED = "[REDACTED]"


class ApiKey:
    """A secret string that does not print itself: use ``reveal()`` only to hand it to the SDK."""

    __slots__ = ("_value", "origin")

    def __init__(self, value: str, origin: str = "argument") -> None:
        self._value = value.strip()
        self.origin = origin

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey('{self._value[:4]}…(redacted)')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling (xdist, multiprocessing) would copy the secret into another process's data.
        raise TypeError("an ApiKey cannot be pickled")


@dataclass(frozen=True)
class Redactor:
    """Replaces every known secret in a text with ``[REDACTED]``."""

    keys: Sequence[ApiKey] = ()

    def scrub(self, text: str) -> str:
        for key in self.keys:
            secret = key.reveal()
            if len(secret) >= 8:  # a too-short "key" would blank ordinary words
                text = text.replace(secret, REDACTED)
        return text


KEY_WARNING = (
    "warning: --claude-api-key leaves the key in your shell history; "
    "prefer ANTHROPIC_API_KEY or a .env file (see .env.example)"
)


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export`` prefix, quotes and ``#`` comments allowed).

    A small reader of one well-known format, so that the layer adds no
    dependency for it; values are never expanded.
    """
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        values[name.strip()] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def _from_mapping(values: Mapping[str, str], origin: str) -> ApiKey | None:
    for name in ENV_NAMES:
        if values.get(name, "").strip():
            return ApiKey(values[name], f"{origin} {name}")
    return None


def resolve_api_key(
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv_dirs: Iterable[Path] = (),
) -> ApiKey:
    """The API key, from the argument, the environment or a ``.env`` file; ``ApiKeyMissing`` else."""
    if explicit:
        return ApiKey(explicit, "--claude-api-key")
    looked_in = [f"environment ({', '.join(ENV_NAMES)})"]
    key = _from_mapping(os.environ if environ is None else environ, "environment")
    for directory in dict.fromkeys(Path(d).resolve() for d in dotenv_dirs):
        if key is not None:
            break
        path = directory / DOTENV_NAME
        looked_in.append(str(path))
        if path.is_file():
            key = _from_mapping(parse_dotenv(path.read_text(encoding="utf-8")), str(path))
    if key is None:
        raise ApiKeyMissing(looked_in)
    return key
