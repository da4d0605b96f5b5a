"""What the report and the gate read from the store: only what they judge, in bounded memory.

The judged sessions' records are read whole, through the index, from their byte
offsets in ``results.json``; the history behind the trends comes from index rows
(pair, session, configuration hash, value), never from parsing every record of
the run; the lineage reads the latest record of each iteration of any run.

>>> samples = load_run_samples(ResultsStore(root), "run-001", session_id=None)  # doctest: +SKIP
>>> sorted(samples.by_pair)  # doctest: +SKIP
[('v1', 'accuracy'), ('v2', 'accuracy')]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.report.history import TREND_LENGTH
from pytest_iterbench.report.samples import RunSamples, samples_from_rows
from pytest_iterbench.results.index import ResultsIndex, StaleIndex
from pytest_iterbench.results.store import ResultsStore

T = TypeVar("T")


def with_index(store: ResultsStore, read: Callable[[ResultsIndex], T]) -> T:
    """``read(index)``; rebuilt once and read again if the file changed under the index."""
    with store.index() as index:
        try:
            return read(index)
        except StaleIndex:
            index.rebuild()
        try:
            return read(index)
        except StaleIndex as exc:
            raise IterbenchError(
                f"{exc}; results.json changed while it was read, run again"
            ) from exc


def load_run_samples(store: ResultsStore, run_id: str, session_id: str | None) -> RunSamples:
    """The samples :func:`~pytest_iterbench.report.comparison.compare_run` needs to judge ``run_id`` at ``session_id``."""
    return with_index(store, lambda index: _run_samples(index, run_id, session_id))


def _run_samples(index: ResultsIndex, run_id: str, session_id: str | None) -> RunSamples:
    focus = index.focus_sessions(run_id, session_id)
    records = index.run_records(run_id, set(focus.values()))
    samples = samples_from_rows(
        run_id,
        records,
        focus,
        index.session_summaries(run_id, session_id),
        lambda pair, sessions: index.session_values(run_id, *pair, sessions),
        TREND_LENGTH,
    )
    samples.records = index.count(run_id)
    for record in index.latest_per_iteration():
        samples.parameters_anywhere[record["iteration_id"]] = record.get("parameters") or {}
        samples.parents_anywhere[record["iteration_id"]] = record.get("iteration_parent")
    return samples
