"""Secrets in the environment: kept from iterations, scrubbed from what the harness writes.

A foundation module (standard library only), so that the executor, the
session, the results and the LLM layer can all use it. Two halves:

- :func:`child_environment` is the environment a child process that runs user
  code (the process template, a notebook kernel) starts with: this process's,
  less every variable whose name looks like a secret (:func:`is_secret_name`).
- :class:`Scrubber` knows the *values* of those variables, read from the
  controller's environment at session start, and replaces them by
  ``[redacted]`` in logs, reasons, tracebacks and report text.

>>> scrubber = Scrubber.from_environment({"ANTHROPIC_API_KEY": "sk-ant-0123456789", "HOME": "/root"})
>>> scrubber.scrub("calling with sk-ant-0123456789")
'calling with [redacted]'
>>> sorted(child_environment({"ANTHROPIC_API_KEY": "sk-ant-0123456789", "HOME": "/root"}))
['HOME']

What it cannot promise: an iteration that reads a key from a file it can see,
or a secret shorter than :data:`MIN_SECRET_LENGTH` characters (replacing it
would blank ordinary words), or a secret split across lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

REDACTED = "[redacted]"
SECRET_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "PASSWORD")
SECRET_NAMES = frozenset({"API_KEY", "TOKEN", "SECRET"})
MIN_SECRET_LENGTH = 8


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret.

    >>> [is_secret_name(n) for n in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "PATH")]
    [True, True, True, False]
    """
    upper = name.upper()
    return upper in SECRET_NAMES or upper.endswith(SECRET_SUFFIXES)


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without the variables that look like secrets."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if not is_secret_name(name)}


@dataclass(frozen=True)
class Scrubber:
    """Replaces every known secret value in a text (or bytes) by ``[redacted]``."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, values: Iterable[str]) -> Scrubber:
        kept = {v.strip() for v in values if len(v.strip()) >= MIN_SECRET_LENGTH}
        # Longest first: a secret that contains another is replaced whole.
        return cls(tuple(sorted(kept, key=len, reverse=True)))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Scrubber:
        """The values of the secret-looking variables of ``environ`` (default: this process's)."""
        source = os.environ if environ is None else environ
        return cls.from_values(value for name, value in source.items() if is_secret_name(name))

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __repr__(self) -> str:
        return f"Scrubber({len(self.secrets)} secrets)"  # never the values themselves

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    def scrub_bytes(self, data: bytes) -> bytes:
        for secret in self.secrets:
            data = data.replace(secret.encode("utf-8", "surrogateescape"), REDACTED.encode())
        return data

    def contains_secret(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)
