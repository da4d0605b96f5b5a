"""Narrowing a session for whoever drives the harness: one session resumed, some iterations only.

``--iterbench-session ID`` writes this session's records under ``ID`` (a
session killed before it finished, resumed) and deselects every item that
already has a record under ``ID`` in ``results.json``: nothing is measured
twice. The journals of the killed session must be folded into
``results.json`` first (``iterbench recover``; the orchestrator does it).
``--iterbench-only ITERATION`` (repeatable) keeps only those iterations'
items: a fixed iteration is re-run alone.

>>> # pytest --iterbench run-001 --iterbench-session 20261130T1200Z-ab12 --iterbench-only v2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_iterbench.harness.target import item_target
from pytest_iterbench.results.store import ResultsStore

if TYPE_CHECKING:
    from pytest_iterbench.harness.session import IterbenchSession

RecordedKey = tuple[str, str, int]


def recorded_keys(state: IterbenchSession, session_id: str) -> set[RecordedKey]:
    """The (iteration, metric, repeat) of every record of ``session_id`` for this run.

    Read through the index: the session's own records, not the whole history.
    """
    records = ResultsStore(state.workspace.root).run_records(state.run.id, [session_id])
    return {(r["iteration_id"], r["metric_id"], int(r.get("repeat") or 0)) for r in records}


def narrow_items(config: pytest.Config, items: list[pytest.Item], state: IterbenchSession) -> None:
    """Deselect the items ``--iterbench-only`` leaves out and those the resumed session recorded."""
    only = set(config.getoption("iterbench_only") or ())
    resumed = config.getoption("iterbench_session")
    if not only and not resumed:
        return
    done = recorded_keys(state, resumed) if resumed else set()
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        target = item_target(item)
        skip = target is not None and (
            (only and target.iteration_id not in only)
            or (target.iteration_id, target.metric_id, target.repeat) in done
        )
        (deselected if skip else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
