"""The orchestrator: from a task to a reported benchmark, step by step, resumable, persisted to git.

Public names are re-exported here; see ``docs/orchestrator.md``.
"""

from __future__ import annotations

from pytest_iterbench.orchestrator.errors import OrchestrationError, StateCorrupt, StepFailed
from pytest_iterbench.orchestrator.pipeline import Options, Orchestrator
from pytest_iterbench.orchestrator.state import Orchestration, StateFile, StepRecord

__all__ = [
    "Options",
    "Orchestration",
    "OrchestrationError",
    "Orchestrator",
    "StateCorrupt",
    "StateFile",
    "StepFailed",
    "StepRecord",
]
