"""The comparison of one run's iterations: what the report and the plots show, computed once.

:func:`compare_run` turns ``results.json``'s records into a :class:`Comparison`:
for each (iteration, metric) the sample it is judged by (its latest session),
its centre and spread, the best iteration of each metric, changes against the
parent and the baseline with a significance verdict, the Pareto front over
quality, time and memory, the lineage, the trend over earlier sessions of the
same configuration, and the environments the numbers were measured in.
Rendering is left to :mod:`pytest_iterbench.report.writer`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pytest_iterbench.report.history import Trend, build_trend
from pytest_iterbench.report.lineage import Lineage, build_lineage, choose_baseline
from pytest_iterbench.report.pareto import Axis, ParetoFront, pareto_front
from pytest_iterbench.report.samples import Pair, RunSamples, Sample, collect_samples
from pytest_iterbench.report.statistics import (
    MetricKind,
    Significance,
    Summary,
    mann_whitney,
    metric_kind,
    summarize,
)

Direction = Literal["better", "worse", "same"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric as its latest records describe it."""

    metric_id: str
    unit: str
    higher_is_better: bool | None
    kind: MetricKind

    @property
    def label(self) -> str:
        """``accuracy (%)``, or the bare id for a metric without a unit."""
        return f"{self.metric_id} ({self.unit})" if self.unit else self.metric_id


@dataclass(frozen=True)
class Cell:
    """The sample one (iteration, metric) is judged by, and its summary (None without values)."""

    sample: Sample
    summary: Summary | None


@dataclass(frozen=True)
class IterationInfo:
    """What an iteration's latest records say about it."""

    parent: str | None
    tags: tuple[str, ...]
    parameters: dict[str, Any]
    config_hash: str | None


@dataclass(frozen=True)
class Delta:
    """The change of one iteration's centre against a reference iteration's, on one metric."""

    reference: str
    absolute: float
    relative: float | None
    direction: Direction | None
    significance: Significance | None = None


@dataclass(frozen=True)
class EnvironmentGroup:
    """One distinct environment and the sessions (and commits) measured in it."""

    environment: dict[str, Any]
    sessions: tuple[str, ...]
    git_commits: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """Everything the report of one run says, before it is written in any format."""

    run_id: str
    iterations: tuple[str, ...]
    metrics: tuple[MetricInfo, ...]
    cells: dict[Pair, Cell]
    info: dict[str, IterationInfo]
    baseline: str | None
    baseline_tagged: bool
    best: dict[str, frozenset[str]]
    lineage: Lineage
    pareto: ParetoFront | None
    trends: dict[Pair, Trend]
    environments: tuple[EnvironmentGroup, ...]
    focus_sessions: dict[str, int]
    records: int

    def metric(self, metric_id: str) -> MetricInfo:
        return next(m for m in self.metrics if m.metric_id == metric_id)

    def summary(self, iteration: str, metric_id: str) -> Summary | None:
        cell = self.cells.get((iteration, metric_id))
        return cell.summary if cell is not None else None

    def delta(self, iteration: str, metric_id: str, reference: str | None) -> Delta | None:
        """The change against ``reference`` (None when either side has no value)."""
        if reference is None or reference == iteration:
            return None
        mine = self.summary(iteration, metric_id)
        theirs = self.summary(reference, metric_id)
        if mine is None or theirs is None:
            return None
        return _delta(reference, mine, theirs, self.metric(metric_id).higher_is_better)

    def against_baseline(self, iteration: str, metric_id: str) -> Delta | None:
        """The change against the baseline, with the Mann–Whitney verdict on the two samples."""
        delta = self.delta(iteration, metric_id, self.baseline)
        if delta is None or self.baseline is None:
            return None
        a = self.cells[iteration, metric_id].sample.values
        b = self.cells[self.baseline, metric_id].sample.values
        return Delta(
            delta.reference, delta.absolute, delta.relative, delta.direction, mann_whitney(a, b)
        )

    @property
    def has_repeats(self) -> bool:
        """Whether any sample holds more than one value."""
        return any(cell.summary is not None and cell.summary.n > 1 for cell in self.cells.values())


def _delta(reference: str, mine: Summary, theirs: Summary, higher: bool | None) -> Delta:
    absolute = mine.centre - theirs.centre
    relative = absolute / abs(theirs.centre) if theirs.centre else None
    direction: Direction | None
    if absolute == 0:
        direction = "same"
    elif higher is None:
        direction = None
    else:
        direction = "better" if (absolute > 0) == higher else "worse"
    return Delta(reference, absolute, relative, direction)


def ordered(values: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """``values`` with those in ``preferred`` first, in its order, the rest in their own.

    >>> ordered(["c", "a", "b"], ["b", "x", "a"])
    ['b', 'a', 'c']
    """
    seen = list(dict.fromkeys(values))
    present = set(seen)
    chosen = [v for v in dict.fromkeys(preferred) if v in present]
    picked = set(chosen)
    return chosen + [v for v in seen if v not in picked]


def compare_run(
    records: Iterable[dict[str, Any]] | RunSamples,
    run_id: str,
    *,
    iteration_order: Sequence[str] = (),
    metric_order: Sequence[str] = (),
    session_id: str | None = None,
) -> Comparison:
    """The :class:`Comparison` of ``run_id``, judged on the latest records up to ``session_id``.

    ``records`` may be samples already collected (as :mod:`pytest_iterbench.report.reading`
    reads them from the store's index).

    >>> c = compare_run([{"run_id": "r", "iteration_id": "v1", "metric_id": "acc",
    ...     "value": 0.9, "unit": "", "higher_is_better": True, "session_id": "S1"}], "r")
    >>> c.iterations, c.baseline, c.summary("v1", "acc").centre
    (('v1',), 'v1', 0.9)
    """
    samples = records if isinstance(records, RunSamples) else collect_samples(records, run_id)
    return build_comparison(samples, iteration_order, metric_order, session_id)


def build_comparison(
    samples: RunSamples,
    iteration_order: Sequence[str] = (),
    metric_order: Sequence[str] = (),
    session_id: str | None = None,
) -> Comparison:
    """The :class:`Comparison` of samples already collected."""
    focus = samples.focus(session_id)
    latest_of_iteration = _latest_by(focus, 0)
    latest_of_metric = _latest_by(focus, 1)
    iterations = tuple(ordered((i for i, _ in focus), iteration_order))
    metrics = tuple(
        _metric_info(m, latest_of_metric[m]) for m in ordered((m for _, m in focus), metric_order)
    )
    kinds = {m.metric_id: m.kind for m in metrics}
    cells = {
        pair: Cell(sample, summarize(sample.values, kinds[pair[1]]))
        for pair, sample in focus.items()
    }
    info = {i: _iteration_info(latest_of_iteration[i]) for i in iterations}
    tags = {i: info[i].tags for i in iterations}
    baseline = choose_baseline(iterations, tags)
    parents = {**samples.parents_anywhere, **{i: info[i].parent for i in iterations}}
    parameters = {**samples.parameters_anywhere, **{i: info[i].parameters for i in iterations}}
    focus_sessions: dict[str, int] = {}
    for sample in focus.values():
        focus_sessions[sample.session_id] = focus_sessions.get(sample.session_id, 0) + 1
    return Comparison(
        run_id=samples.run_id,
        iterations=iterations,
        metrics=metrics,
        cells=cells,
        info=info,
        baseline=baseline,
        baseline_tagged=baseline is not None and "baseline" in tags.get(baseline, ()),
        best={m.metric_id: _best(m, iterations, cells) for m in metrics},
        lineage=build_lineage(iterations, parents, parameters, baseline),
        pareto=_pareto(iterations, metrics, cells),
        trends={
            pair: build_trend(
                samples.by_pair[pair], sample, kinds[pair[1]], samples.dropped.get(pair)
            )
            for pair, sample in focus.items()
        },
        environments=_environments(focus.values()),
        focus_sessions=dict(sorted(focus_sessions.items())),
        records=samples.records,
    )


def _latest_by(focus: dict[Pair, Sample], part: int) -> dict[str, Sample]:
    """Per iteration (``part`` 0) or metric (1): its sample of the latest session (the first one met wins a tie)."""
    latest: dict[str, Sample] = {}
    for pair, sample in focus.items():
        known = latest.get(pair[part])
        if known is None or sample.session_id > known.session_id:
            latest[pair[part]] = sample
    return latest


def _metric_info(metric_id: str, latest: Sample) -> MetricInfo:
    record = latest.last
    unit = str(record.get("unit") or "")
    higher = record.get("higher_is_better")
    kind = metric_kind(record.get("metric_type"), unit)
    return MetricInfo(metric_id, unit, higher if isinstance(higher, bool) else None, kind)


def _iteration_info(latest: Sample) -> IterationInfo:
    record = latest.last
    parameters = dict(record.get("parameters") or {})
    seed = record.get("seed")
    if seed is not None and parameters.get("seed") == seed:
        del parameters["seed"]  # the repeat's seed, not a choice of the iteration
    return IterationInfo(
        parent=record.get("iteration_parent"),
        tags=tuple(record.get("iteration_tags") or ()),
        parameters=parameters,
        config_hash=record.get("config_hash"),
    )


def _best(metric: MetricInfo, iterations: Sequence[str], cells: dict[Pair, Cell]) -> frozenset[str]:
    """The iterations with the best centre; none when the direction is unknown or only one competes."""
    centres = {
        i: summary.centre
        for i in iterations
        if (cell := cells.get((i, metric.metric_id))) is not None
        and (summary := cell.summary) is not None
    }
    if metric.higher_is_better is None or len(centres) < 2:
        return frozenset()
    best = max(centres.values()) if metric.higher_is_better else min(centres.values())
    return frozenset(i for i, c in centres.items() if c == best)


def pareto_axes(metrics: Sequence[MetricInfo]) -> tuple[Axis, ...]:
    """Quality metrics of known direction, then times, then memories (lower is better by default)."""
    quality = [
        Axis(m.metric_id, m.higher_is_better)
        for m in metrics
        if m.kind == "quality" and m.higher_is_better is not None
    ]
    costs = [
        Axis(m.metric_id, bool(m.higher_is_better))
        for kind in ("time", "memory")
        for m in metrics
        if m.kind == kind
    ]
    return (*quality, *costs)


def _pareto(
    iterations: Sequence[str], metrics: Sequence[MetricInfo], cells: dict[Pair, Cell]
) -> ParetoFront | None:
    """The front over every axis that at least one iteration has a value on."""

    def centre(i: str, metric_id: str) -> float | None:
        cell = cells.get((i, metric_id))
        return cell.summary.centre if cell is not None and cell.summary is not None else None

    axes = [
        axis
        for axis in pareto_axes(metrics)
        if any(centre(i, axis.metric_id) is not None for i in iterations)
    ]
    if not axes or len(iterations) < 2:
        return None
    points = {i: [centre(i, axis.metric_id) for axis in axes] for i in iterations}
    return pareto_front(points, axes)


#: Environment fields that differ between the workers of one session, not between machines.
PER_PROCESS_KEYS = frozenset({"xdist_worker"})


def _environments(focus: Iterable[Sample]) -> tuple[EnvironmentGroup, ...]:
    """The distinct environments of the judged samples, each with its sessions and commits.

    One session measured on several hosts (remote xdist workers) has one
    environment per host.
    """
    by_session: dict[tuple[str, str], dict[str, Any]] = {}
    for sample in focus:
        host = str((sample.last.get("environment") or {}).get("host", ""))
        by_session.setdefault((sample.session_id, host), sample.last)
    groups: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}
    for session_id, host in sorted(by_session):
        record = by_session[session_id, host]
        environment = {
            k: v for k, v in (record.get("environment") or {}).items() if k not in PER_PROCESS_KEYS
        }
        key = json.dumps(environment, sort_keys=True, default=str)
        _, sessions, commits = groups.setdefault(key, (environment, [], []))
        if session_id not in sessions:
            sessions.append(session_id)
        commit = record.get("git_commit")
        if commit and commit not in commits:
            commits.append(str(commit))
    return tuple(
        EnvironmentGroup(environment, tuple(sessions), tuple(commits))
        for environment, sessions, commits in groups.values()
    )
