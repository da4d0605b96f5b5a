"""Samples: the records of one run grouped by (iteration, metric, session), in one pass.

A *sample* is what one session measured for one (iteration, metric): the
values of its repeats (and of several ``record_result`` calls), the statuses
and reasons of the records that did not pass, and the last record, which
carries the metadata every record of the group shares (unit, direction,
parent, tags, parameters, configuration hash, environment).

``results.json`` can hold millions of records, so :func:`collect_samples`
touches each record once, keeps references to values rather than copies of
records, and leaves the statistics to the few thousand samples that result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from math import isfinite
from typing import Any

from pytest_iterbench.results.index import SessionSummary, ValueRow
from pytest_iterbench.results.records import session_of

Pair = tuple[str, str]


class Sample:
    """One session's records of one (iteration, metric)."""

    __slots__ = ("count", "last", "problems", "session_id", "values")

    def __init__(self, session_id: str, record: dict[str, Any]) -> None:
        self.session_id = session_id
        self.values: list[float] = []
        #: (status, reason) of each record that did not pass, in file order.
        self.problems: list[tuple[str, str | None]] = []
        self.count = 0
        self.last = record

    def add(self, record: dict[str, Any]) -> None:
        """Take one more record of this session and pair (file order: the last one wins)."""
        self.count += 1
        self.last = record
        status = record.get("status") or "passed"
        value = record.get("value")
        # A value is a measurement whatever the status (a failed check still measured);
        # the status is shown beside it. NaN and infinities (never in results.json) are none.
        if value is not None and isfinite(value):
            self.values.append(value)
        if status != "passed":
            self.problems.append((status, record.get("reason")))

    @property
    def config_hash(self) -> str | None:
        hash_: str | None = self.last.get("config_hash")
        return hash_

    @property
    def statuses(self) -> dict[str, int]:
        """How many records had each status (``passed`` included)."""
        counts: dict[str, int] = {}
        for status, _ in self.problems:
            counts[status] = counts.get(status, 0) + 1
        passed = self.count - len(self.problems)
        return {"passed": passed, **counts} if passed else counts


@dataclass
class RunSamples:
    """Every sample of one run, and what other runs say about the iterations' parameters."""

    run_id: str
    #: (iteration, metric) -> session id -> sample, sessions in file order.
    by_pair: dict[Pair, dict[str, Sample]] = field(default_factory=dict)
    #: Iterations and metrics in the order they first appear.
    iterations: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    #: The latest parameters and parent of iterations seen in any run (for ancestors outside this run).
    parameters_anywhere: dict[str, dict[str, Any]] = field(default_factory=dict)
    parents_anywhere: dict[str, str | None] = field(default_factory=dict)
    records: int = 0
    #: Earlier sessions left out of ``by_pair`` (read from an index): per pair and
    #: configuration hash, (sessions with values, sessions) -- for the trends' counts.
    dropped: dict[Pair, dict[str | None, tuple[int, int]]] = field(default_factory=dict)

    def sessions(self) -> list[str]:
        """Every session of the run that has records, oldest first."""
        return sorted({s for by_session in self.by_pair.values() for s in by_session})

    def focus(self, session_id: str | None = None) -> dict[Pair, Sample]:
        """The sample each pair is judged by: its latest session, not later than ``session_id``.

        A pair the given session did not measure (a session run with ``-k``, say)
        falls back to the latest earlier session that did.
        """
        chosen: dict[Pair, Sample] = {}
        for pair, by_session in self.by_pair.items():
            eligible = [s for s in by_session if session_id is None or s <= session_id]
            if eligible:
                chosen[pair] = by_session[max(eligible)]
        return chosen


def collect_samples(records: Iterable[dict[str, Any]], run_id: str) -> RunSamples:
    """Group ``records`` of ``run_id`` into samples, touching each record once.

    >>> rs = collect_samples([{"run_id": "r", "iteration_id": "v1", "metric_id": "acc",
    ...     "value": 0.9, "session_id": "S1"}], "r")
    >>> rs.by_pair["v1", "acc"]["S1"].values
    [0.9]
    """
    result = RunSamples(run_id)
    by_pair = result.by_pair
    seen_iterations: dict[str, None] = {}
    seen_metrics: dict[str, None] = {}
    anywhere = result.parameters_anywhere
    parents = result.parents_anywhere
    for record in records:
        iteration = record["iteration_id"]
        anywhere[iteration] = record.get("parameters") or {}
        parents[iteration] = record.get("iteration_parent")
        if record.get("run_id") != run_id:
            continue
        result.records += 1
        metric = record["metric_id"]
        session = record.get("session_id") or session_of(record)
        by_session = by_pair.get((iteration, metric))
        if by_session is None:
            by_session = by_pair[iteration, metric] = {}
            seen_iterations[iteration] = None
            seen_metrics[metric] = None
        sample = by_session.get(session)
        if sample is None:
            sample = by_session[session] = Sample(session, record)
        sample.add(record)
    result.iterations = list(seen_iterations)
    result.metrics = list(seen_metrics)
    return result


def samples_from_rows(
    run_id: str,
    focus_records: Iterable[dict[str, Any]],
    focus_sessions: dict[Pair, str],
    summaries: Iterable[SessionSummary],
    values_of: Callable[[Pair, set[str]], Iterable[ValueRow]],
    keep: int,
) -> RunSamples:
    """Samples of ``run_id`` from an index: full records for the judged sessions, summaries for history.

    ``summaries`` has one row per (pair, session), grouped by pair with sessions
    in order. Per pair only the judged sample and the latest ``keep`` sessions of
    its configuration are kept, their values read through ``values_of(pair,
    sessions)``; the other sessions are counted in ``dropped`` from their summaries
    alone, so a long history costs a row per session and never a record.
    """
    full = collect_samples(focus_records, run_id)
    result = RunSamples(run_id, iterations=full.iterations, metrics=full.metrics)
    for pair, rows in groupby(summaries, key=lambda row: (row[0], row[1])):
        session = focus_sessions.get(pair)
        focus = full.by_pair.get(pair, {}).get(session) if session is not None else None
        if focus is None:
            continue
        history = [(s, config, values) for _, _, s, config, values in rows if s != session]
        _keep_pair(result, pair, focus, history, values_of, keep)
    return result


def _keep_pair(
    result: RunSamples,
    pair: Pair,
    focus: Sample,
    history: list[tuple[str, str | None, int]],
    values_of: Callable[[Pair, set[str]], Iterable[ValueRow]],
    keep: int,
) -> None:
    """The focus and the latest ``keep`` sessions of its configuration; the rest counted by configuration."""
    config = focus.config_hash
    # The latest sessions that give the trend a point: of the focus's configuration, with a value.
    same_config = [s for s, c, values in history if config is not None and c == config and values]
    kept = set(same_config[-keep:])
    counts: dict[str | None, tuple[int, int]] = {}
    for session, session_config, values in history:
        if session not in kept:
            with_values, sessions = counts.get(session_config, (0, 0))
            counts[session_config] = (with_values + (values > 0), sessions + 1)
    by_session: dict[str, Sample] = {}
    for session, row_config, value in values_of(pair, kept):
        light = by_session.get(session)
        if light is None:
            light = by_session[session] = Sample(session, {"config_hash": row_config})
        light.add({"value": value, "config_hash": row_config})
    by_session[focus.session_id] = focus
    result.by_pair[pair] = dict(sorted(by_session.items()))
    if counts:
        result.dropped[pair] = counts
