"""The client's settings and their defaults (no SDK needed to read them).

The default model is the one whose price makes a typical plan cost about the
seed's $0.022 (see docs/llm.md); change it with ``--model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Effort = Literal["low", "medium", "high", "xhigh", "max"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high", "xhigh", "max")

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_MAX_TOKENS = 8192


@dataclass(frozen=True)
class ClientConfig:
    """The model, the SDK's retry maximum, the per-attempt timeout and the answer length limit.

    ``effort`` (sent as ``output_config.effort`` when set) bounds thinking,
    billed as output tokens: the main lever on a plan's cost after the model.
    """

    model: str = DEFAULT_MODEL
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_tokens: int = DEFAULT_MAX_TOKENS
    effort: Effort | None = None
