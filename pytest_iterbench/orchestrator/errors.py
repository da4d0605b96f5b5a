"""The orchestrator's errors: each names the file or step, what was expected and what was found."""

from __future__ import annotations

from pytest_iterbench.errors import IterbenchError


class OrchestrationError(IterbenchError):
    """The orchestration cannot go on (a bad task, a step that failed)."""


class StateCorrupt(OrchestrationError):
    """``state.json`` does not parse or does not match its schema; nothing was overwritten."""


class StepFailed(OrchestrationError):
    """A step ended in failure; ``state.json`` records why, and the next run retries it."""

    def __init__(self, step_id: str, reason: str) -> None:
        super().__init__(f"step {step_id} failed: {reason}")
        self.step_id = step_id
        self.reason = reason
