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

from pytest_iterbench.execution.keys import run_slots
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import RunDefinition


def execution_scopes(workspace: Workspace, run: RunDefinition) -> dict[str, str]:
    """Item names and parameter ids of the run, each mapped to its execution's scope.

    >>> # class item "v1-accuracy-r1" and metric test "test_x[v1-r1]" share scope "iterbench:v1-r1"
    """
    scopes: dict[str, str] = {}
    for slot in run_slots(run, workspace.iterations):
        scopes[f"[{slot.param_id}]"] = slot.scope
        for metric_id in run.metric_ids:
            scopes[slot.item_name(metric_id)] = slot.scope
    return scopes


def scope_of(nodeid: str, scopes: Mapping[str, str]) -> str | None:
    """The execution scope of a node id, or None for an ordinary test."""
    name = nodeid.rpartition("::")[2]
    bracket = name.find("[")
    key = name[bracket:] if bracket >= 0 else name
    return scopes.get(key)


class IterationScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist load`` for an iterbench session: one execution's items on one worker.

    xdist offers no public way to choose an item's scope: its public way to
    group items, the ``loadgroup`` marker, is broken under pytest 9
    (pytest-xdist issue #1386). ``_split_scope`` is the private seam its own
    ``LoadFileScheduling`` overrides; this override is the smallest dependence
    on xdist's internals, to drop when the marker works again.
    """

    def __init__(self, config: Any, log: Any, scopes: Mapping[str, str]) -> None:
        super().__init__(config, log)
        self._scopes = scopes

    def _split_scope(self, nodeid: str) -> str:
        scope = scope_of(nodeid, self._scopes)
        return scope if scope is not None else str(super()._split_scope(nodeid))
