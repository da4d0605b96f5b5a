"""xdist scheduling (in the controller): every item of one execution goes to one worker.

An iteration's entry point runs once per session and every metric reads that
execution, so the items of one (iteration, repeat) belong together: on one
worker they reuse the execution in memory instead of waiting for another
worker's. ``IterationScheduling`` is xdist's ``LoadScopeScheduling`` with the
scope of an item being its execution. (xdist's ``loadgroup`` cannot be used:
it renames node ids through an attribute that pytest 9 no longer reads.)

A worker is given its next execution only once it is down to the last item of
its current one. xdist refills a worker that holds two items or fewer, so each
worker would always hold a whole execution in reserve, committed before its
current one ran: at the end of a session one worker could sit idle while the
other still had an execution queued. The expensive part of an execution is its
first item, which runs the iteration; the reserve is now chosen after it.

A worker that dies (a metric calling ``os._exit``, a crash in a C extension)
must not take the session with it: ``remove_node`` drops the item that was
running from its work unit before the unit goes back to the queue, so the
replacement worker runs the rest of the unit and not the item that killed its
predecessor again (``LoadScopeScheduling`` requeues the whole unit, and the
item kills one replacement after another until xdist stops replacing them).
The controller then gives the dropped item an ``error`` record.
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

    def _reschedule(self, node: Any) -> None:
        """Give ``node`` the next execution once it holds one item at most (xdist's: two).

        An xdist worker runs an item only once it holds the next one (or is told
        to shut down), so one item is the least it can be left with. Same
        contract, and the same private attributes, as ``LoadScopeScheduling._reschedule``.
        """
        if node.shutting_down:
            return
        if not self.workqueue:
            node.shutdown()
            return
        if self._pending_of(self.assigned_work[node]) > 1:
            return
        self._assign_work_unit(node)

    def remove_node(self, node: Any) -> str | None:
        """Forget a node; if it died with work pending, requeue all of it but the item it ran.

        Returns that item (xdist reports it as crashed), or None when the node
        had nothing pending (it finished normally). Same contract, and the same
        private attributes (``assigned_work``, ``workqueue``, ``_reschedule``),
        as ``LoadScopeScheduling.remove_node``.
        """
        workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
        crashed = next(
            (nodeid for unit in workload.values() for nodeid, done in unit.items() if not done),
            None,
        )
        if crashed is None:
            return None
        workload[self._split_scope(crashed)][crashed] = True  # never run it again
        self.workqueue.update(
            (scope, unit) for scope, unit in workload.items() if not all(unit.values())
        )
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed
