"""xdist scheduling (in the controller): every item of one execution goes to one worker.

An iteration's entry point runs once per session and every metric reads that
execution, so the items of one (iteration, repeat) belong together: on one
worker they reuse the execution in memory instead of waiting for another
worker's. ``IterationScheduling`` is xdist's ``LoadScopeScheduling`` with the
scope of an item being its execution. (xdist's ``loadgroup`` cannot be used:
it renames node ids through an attribute that pytest 9 no longer reads.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdist.scheduler import LoadScopeScheduling

from pytest_iterbench.harness.collection import slot_suffix
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import RunDefinition


def execution_scopes(workspace: Workspace, run: RunDefinition) -> dict[str, str]:
    """Item names and parameter ids of the run, each mapped to its execution's scope.

    >>> # class item "v1-accuracy-r1" and metric test "test_x[v1-r1]" share scope "iterbench:v1-r1"
    """
    scopes: dict[str, str] = {}
    for iteration_id in run.iteration_ids:
        count = len(run.repeat_seeds(workspace.iterations[iteration_id]))
        for repeat in range(count):
            suffix = slot_suffix(repeat, count)
            scope = f"iterbench:{iteration_id}-r{repeat}"
            scopes[f"[{iteration_id}{suffix}]"] = scope
            for metric_id in run.metric_ids:
                scopes[f"{iteration_id}-{metric_id}{suffix}"] = scope
    return scopes


def scope_of(nodeid: str, scopes: Mapping[str, str]) -> str | None:
    """The execution scope of a node id, or None for an ordinary test."""
    name = nodeid.rpartition("::")[2]
    bracket = name.find("[")
    key = name[bracket:] if bracket >= 0 else name
    return scopes.get(key)


class IterationScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist load`` for an iterbench session: one execution's items on one worker."""

    def __init__(self, config: Any, log: Any, scopes: Mapping[str, str]) -> None:
        super().__init__(config, log)
        self._scopes = scopes

    def _split_scope(self, nodeid: str) -> str:
        scope = scope_of(nodeid, self._scopes)
        return scope if scope is not None else str(super()._split_scope(nodeid))
