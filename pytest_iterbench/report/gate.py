"""A gate for CI: did a metric get worse, beyond its tolerance, since an earlier session?

:func:`compare_sessions` compares one session of a run with an earlier one
(``"last"``: the latest earlier session of the run with records, or a session
id), like with like: the same iteration, the same configuration hash, the mean
over repeats of each side. A metric is gated only when ``metrics.json`` gives it
a ``tolerance``; each regression gets a one-line reason::

    accuracy of v1-baseline: 96.89 -> 91.2 % (-5.9 %, tolerance 1 %)

A configuration that changed is reported as not comparable, never as a
regression; a gated value that was measured before and is missing now (the
item errored or timed out) is a regression.

>>> records = [
...     {"run_id": "r", "session_id": s, "iteration_id": "v1", "metric_id": "acc", "value": v,
...      "unit": "%", "higher_is_better": True, "config_hash": "h"}
...     for s, v in (("S1", 96.9), ("S2", 91.2))
... ]
>>> result = compare_sessions(records, "r", "S2", "last", {"acc": Tolerance(relative=0.01)})
>>> result.ok, result.regressions[0].message
(False, 'acc of v1: 96.90 -> 91.20 % (-5.9 %, tolerance 1 %)')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.report.document import format_percent, format_signed, format_value
from pytest_iterbench.report.reading import with_index
from pytest_iterbench.report.samples import RunSamples, Sample, collect_samples
from pytest_iterbench.results.index import ResultsIndex
from pytest_iterbench.results.store import ResultsStore
from pytest_iterbench.workspace.model import MetricDefinition, Tolerance


def tolerance_text(tolerance: Tolerance, unit: str) -> str:
    """A tolerance in words: ``1 %`` (relative), ``0.5 seconds``, ``0.5 % absolute``.

    >>> tolerance_text(Tolerance(relative=0.01), "%"), tolerance_text(Tolerance(absolute=0.5), "%")
    ('1 %', '0.5000 % absolute')
    """
    parts = []
    if tolerance.absolute is not None:
        absolute = f"{format_value(tolerance.absolute)} {unit}".strip()
        parts.append(absolute + (" absolute" if unit in ("%", "") else ""))
    if tolerance.relative is not None:
        parts.append(f"{format_value(tolerance.relative * 100)} %")
    return " and ".join(parts) or "0"


def worsening(before: float, after: float, higher_is_better: bool) -> float:
    """How much worse ``after`` is than ``before`` (negative: better).

    >>> worsening(10.0, 8.0, True), worsening(10.0, 8.0, False)
    (2.0, -2.0)
    """
    return before - after if higher_is_better else after - before


def exceeds(tolerance: Tolerance, before: float, after: float, higher_is_better: bool) -> bool:
    """Whether the change is a worsening beyond every limit the tolerance sets.

    With both limits set a change must exceed both; a tolerance with neither
    allows no worsening at all.

    >>> exceeds(Tolerance(absolute=1.0, relative=0.05), 100.0, 97.0, True)
    False
    >>> exceeds(Tolerance(absolute=1.0, relative=0.05), 100.0, 94.0, True)
    True
    """
    worse = worsening(before, after, higher_is_better)
    limits = []
    if tolerance.absolute is not None:
        limits.append(tolerance.absolute)
    if tolerance.relative is not None:
        limits.append(tolerance.relative * abs(before))
    return worse > 0 and all(worse > limit for limit in limits)


@dataclass(frozen=True)
class Regression:
    """One metric of one iteration that got worse beyond its tolerance (or lost its value)."""

    iteration_id: str
    metric_id: str
    unit: str
    before: float
    after: float | None
    tolerance: Tolerance
    status: str = "passed"
    reason: str | None = None

    @property
    def message(self) -> str:
        """One line: ``accuracy of v1-baseline: 96.89 -> 91.2 % (-5.9 %, tolerance 1 %)``."""
        head = f"{self.metric_id} of {self.iteration_id}: {format_value(self.before)}"
        tolerance = tolerance_text(self.tolerance, self.unit)
        if self.after is None:
            why = f"{self.status}: {' '.join((self.reason or 'no reason recorded').split())}"
            return f"{head} {self.unit}".rstrip() + f" -> no value ({why}; tolerance {tolerance})"
        change = (
            format_percent((self.after - self.before) / abs(self.before))
            if self.before
            else f"{format_signed(self.after - self.before)} {self.unit}".rstrip()
        )
        after = f"{format_value(self.after)} {self.unit}".rstrip()
        return f"{head} -> {after} ({change}, tolerance {tolerance})"


@dataclass
class GateResult:
    """The outcome of :func:`compare_sessions`; ``ok`` when nothing regressed."""

    run_id: str
    current_session: str
    baseline_session: str | None
    regressions: list[Regression] = field(default_factory=list)
    #: Gated comparisons within tolerance.
    passed: int = 0
    #: "iteration: reason" for iterations whose configuration differs between the sessions.
    not_comparable: list[str] = field(default_factory=list)
    #: Metrics measured on both sides but not gated, with why.
    not_gated: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.regressions

    def summary_lines(self) -> list[str]:
        """The outcome for a terminal or a CI log: a headline, then one line per finding."""
        if self.baseline_session is None:
            return [
                f"iterbench compare: run {self.run_id}, session {self.current_session}: "
                "no earlier session of this run to compare with; nothing gated"
            ]
        verdict = "FAILED" if self.regressions else "OK"
        count = len(self.regressions)
        lines = [
            f"iterbench compare: run {self.run_id}, session {self.current_session} against "
            f"{self.baseline_session}: {verdict}, {count} regression{'s' if count != 1 else ''}, "
            f"{self.passed} within tolerance"
        ]
        lines += [f"  REGRESSION {r.message}" for r in self.regressions]
        lines += [f"  not comparable: {entry}" for entry in self.not_comparable]
        lines += [f"  not gated: {metric} ({why})" for metric, why in self.not_gated.items()]
        lines += [f"  {note}" for note in self.notes]
        return lines


def pick_baseline(run_id: str, sessions: Sequence[str], current: str, baseline: str) -> str | None:
    """The session to compare ``current`` with: ``"last"`` (the latest earlier one) or an id."""
    known = ", ".join(sessions) or "none"
    if current not in sessions:
        raise IterbenchError(
            f"run {run_id!r}: no records of session {current!r}; known sessions: {known}"
        )
    if baseline == "last":
        earlier = [s for s in sessions if s < current]
        return earlier[-1] if earlier else None
    if baseline not in sessions:
        raise IterbenchError(
            f"run {run_id!r}: unknown session {baseline!r} to compare with; known sessions: {known}"
        )
    return baseline


def compare_sessions(
    records: Iterable[dict[str, Any]],
    run_id: str,
    current_session: str,
    baseline: str,
    tolerances: Mapping[str, Tolerance],
) -> GateResult:
    """Compare ``current_session`` of ``run_id`` with ``baseline`` ("last" or a session id)."""
    samples = collect_samples(records, run_id)
    chosen = pick_baseline(run_id, samples.sessions(), current_session, baseline)
    return compare_samples(samples, current_session, chosen, tolerances)


def compare_stored_sessions(
    store: ResultsStore,
    run_id: str,
    current_session: str,
    baseline: str,
    tolerances: Mapping[str, Tolerance],
) -> GateResult:
    """:func:`compare_sessions` reading only the two sessions' records, through the store's index."""

    def compare(index: ResultsIndex) -> GateResult:
        chosen = pick_baseline(run_id, index.sessions(run_id), current_session, baseline)
        wanted = [current_session] + ([chosen] if chosen is not None else [])
        samples = collect_samples(index.run_records(run_id, wanted), run_id)
        return compare_samples(samples, current_session, chosen, tolerances)

    return with_index(store, compare)


def compare_samples(
    samples: RunSamples,
    current_session: str,
    chosen: str | None,
    tolerances: Mapping[str, Tolerance],
) -> GateResult:
    """The gate's verdict on two sessions' samples (``chosen`` None: nothing to compare with)."""
    result = GateResult(samples.run_id, current_session, chosen)
    if chosen is None:
        return result
    changed: dict[str, str] = {}
    for (iteration, metric), by_session in samples.by_pair.items():
        now, before = by_session.get(current_session), by_session.get(chosen)
        if now is None or before is None:
            continue
        why = _not_comparable(before, now)
        if why is not None:
            changed[iteration] = why
            continue
        _compare_pair(result, iteration, metric, before, now, tolerances.get(metric))
    result.not_comparable = [f"{i}: {why}" for i, why in changed.items()]
    _note_missing(result, samples, current_session, chosen)
    return result


def _not_comparable(before: Sample, now: Sample) -> str | None:
    """Why two samples of one iteration measure different things, or None when they are alike."""
    if now.config_hash is None or before.config_hash is None:
        return "configuration unknown (records without config_hash)"
    if now.config_hash != before.config_hash:
        return f"configuration changed ({before.config_hash} -> {now.config_hash})"
    return None


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _compare_pair(
    result: GateResult,
    iteration: str,
    metric: str,
    before: Sample,
    now: Sample,
    tolerance: Tolerance | None,
) -> None:
    higher = now.last.get("higher_is_better")
    if tolerance is None:
        result.not_gated.setdefault(metric, "no tolerance in metrics.json")
        return
    if not isinstance(higher, bool):
        result.not_gated.setdefault(metric, "its direction (higher_is_better) is unknown")
        return
    if not before.values:
        result.notes.append(
            f"{metric} of {iteration}: no value in {before.session_id}, nothing to compare"
        )
        return
    unit = str(now.last.get("unit") or "")
    old = _mean(before.values)
    if not now.values:
        status, reason = now.problems[-1] if now.problems else ("passed", None)
        result.regressions.append(
            Regression(iteration, metric, unit, old, None, tolerance, status, reason)
        )
    elif exceeds(tolerance, old, new := _mean(now.values), higher):
        result.regressions.append(Regression(iteration, metric, unit, old, new, tolerance))
    else:
        result.passed += 1


def _note_missing(result: GateResult, samples: RunSamples, current: str, baseline: str) -> None:
    """Pairs the baseline measured and this session did not: worth a line, not a failure."""
    missing = [
        f"{metric} of {iteration}"
        for (iteration, metric), by_session in samples.by_pair.items()
        if baseline in by_session and current not in by_session
    ]
    if missing:
        result.notes.append(f"not measured in {current}: " + ", ".join(missing))


def workspace_tolerances(metrics: Mapping[str, MetricDefinition]) -> dict[str, Tolerance]:
    """The tolerance of every metric that declares one in ``metrics.json``."""
    return {metric_id: m.tolerance for metric_id, m in metrics.items() if m.tolerance is not None}
