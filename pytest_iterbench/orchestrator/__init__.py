"""The orchestrator: from a task to a reported benchmark, step by step, resumable, persisted to git.

Public names are re-exported here; see ``docs/orchestrator.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
    from pytest_iterbench.orchestrator.errors import OrchestrationError, StateCorrupt, StepFailed
    from pytest_iterbench.orchestrator.pipeline import Options, Orchestrator
    from pytest_iterbench.orchestrator.state import Orchestration, StateFile, StepRecord

#: Each public name and the module that owns it, imported on first use.
_OWNERS = {
    "Options": "pytest_iterbench.orchestrator.pipeline",
    "Orchestration": "pytest_iterbench.orchestrator.state",
    "OrchestrationError": "pytest_iterbench.orchestrator.errors",
    "Orchestrator": "pytest_iterbench.orchestrator.pipeline",
    "StateCorrupt": "pytest_iterbench.orchestrator.errors",
    "StateFile": "pytest_iterbench.orchestrator.state",
    "StepFailed": "pytest_iterbench.orchestrator.errors",
    "StepRecord": "pytest_iterbench.orchestrator.state",
}

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


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)
