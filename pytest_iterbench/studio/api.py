"""The studio's JSON API: what the page reads, built from the library's own readers.

Each function takes the workspace root (and a request's parameters) and
returns builtins ready for JSON; the routes (:mod:`pytest_iterbench.studio.app`)
scrub known secrets from every answer. Plans go through the command line's
validator (:func:`~pytest_iterbench.llm.plan.plan_problems`) and applier;
results through the SQLite index (:func:`~pytest_iterbench.report.reading.load_run_samples`).

>>> workspace_summary(Path("."))["runs"][0]["id"]  # doctest: +SKIP
'run-001'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.execution.keys import execution_key
from pytest_iterbench.execution.logs import read_tail
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.costs import CostTotals, summarise, totals
from pytest_iterbench.llm.errors import PlanInvalid
from pytest_iterbench.llm.plan import Existing, Plan, plan_problems
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.report.history import build_trend
from pytest_iterbench.report.pareto import Axis, pareto_front
from pytest_iterbench.report.reading import load_run_samples
from pytest_iterbench.report.samples import RunSamples, Sample
from pytest_iterbench.report.statistics import centre, metric_kind
from pytest_iterbench.results.events import ITEM_FINISH, ROTATED_FILE, events_path, read_events
from pytest_iterbench.results.store import ResultsStore, read_journal
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.paths import PLAN_FILE, WorkspacePaths

LOG_TAIL_LINES = 60


def problems_json(problems: Iterable[Problem]) -> list[dict[str, str]]:
    return [{"file": p.file, "location": p.location, "message": p.message} for p in problems]


def workspace_summary(root: Path) -> dict[str, Any]:
    """Iterations (with parents, for the lineage), metrics and runs; or the problems loading found."""
    try:
        workspace = Workspace.load(root)
    except WorkspaceError as exc:
        return {"root": str(root), "problems": problems_json(exc.problems)}
    store = ResultsStore(workspace.root)
    return {
        "root": str(workspace.root),
        "problems": [],
        "iterations": [_iteration(it) for it in workspace.iterations.values()],
        "metrics": [_metric(m) for m in workspace.metrics.values()],
        "runs": [
            {
                "id": run.id,
                "name": run.name,
                "iteration_ids": list(run.iteration_ids),
                "metric_ids": list(run.metric_ids),
                "sessions": store.sessions(run.id) if workspace.results_path.exists() else [],
            }
            for run in workspace.runs.values()
        ],
    }


def _iteration(iteration: Any) -> dict[str, Any]:
    return {
        "id": iteration.id,
        "name": iteration.name,
        "parent": iteration.parent,
        "source_path": iteration.source_path,
        "entry_point": iteration.entry_point,
        "parameters": iteration.parameters,
        "tags": list(getattr(iteration, "tags", ()) or ()),
    }


def _metric(metric: Any) -> dict[str, Any]:
    return {
        "id": metric.id,
        "name": metric.name,
        "unit": metric.unit,
        "higher_is_better": metric.higher_is_better,
        "type": getattr(metric, "type", None),
    }


def parse_plan(text: str, file: str) -> tuple[Any, list[Problem]]:
    """The JSON of an uploaded plan, or a problem at its line and column."""
    try:
        return json.loads(text), []
    except ValueError as exc:
        where = f"line {getattr(exc, 'lineno', '?')}, column {getattr(exc, 'colno', '?')}"
        return None, [Problem(file, where, f"not valid JSON: {getattr(exc, 'msg', exc)}")]


def validate_plan(root: Path, text: str, file: str = PLAN_FILE) -> dict[str, Any]:
    """Every problem of an uploaded plan (the command line's checks), and what it would add."""
    document, problems = parse_plan(text, file)
    if not problems:
        try:
            problems = plan_problems(document, Existing.read(root), file=file)
        except WorkspaceError as exc:
            problems = list(exc.problems)
    answer: dict[str, Any] = {"ok": not problems, "problems": problems_json(problems)}
    if not problems:
        plan = Plan.from_json(document)
        answer["adds"] = {kind: [e["id"] for e in plan.entries(kind)] for kind in _KINDS}
    return answer


_KINDS = ("iterations", "metrics", "runs")


def apply_uploaded_plan(root: Path, text: str, file: str = PLAN_FILE) -> dict[str, Any]:
    """Apply a valid plan to the workspace (all or nothing); its problems otherwise."""
    checked = validate_plan(root, text, file)
    if not checked["ok"]:
        return checked
    try:
        applied = apply_plan(Plan.from_json(json.loads(text)), root)
    except PlanInvalid as exc:  # the workspace changed since the check
        return {"ok": False, "problems": problems_json(exc.problems)}
    created = [str(path.relative_to(root)) for path in applied.created]
    return {"ok": True, "problems": [], "added": applied.added, "created": created}


def _samples(root: Path, run_id: str, session_id: str | None) -> tuple[Workspace, RunSamples]:
    workspace = Workspace.load(root)
    workspace.run(run_id)
    if not workspace.results_path.exists():
        return workspace, RunSamples(run_id)
    return workspace, load_run_samples(ResultsStore(workspace.root), run_id, session_id)


def _kind(workspace: Workspace, metric_id: str) -> Any:
    metric = workspace.metrics.get(metric_id)
    return metric_kind(getattr(metric, "type", None), getattr(metric, "unit", None))


def results(root: Path, run_id: str, session_id: str | None = None) -> dict[str, Any]:
    """Each (iteration, metric) of the run at ``session_id`` (default: latest): every repeat's value, centre, statuses."""
    workspace, samples = _samples(root, run_id, session_id)
    run = workspace.run(run_id)
    cells = []
    for (iteration, metric), sample in samples.focus(session_id).items():
        cells.append(_cell(workspace, iteration, metric, sample))
    return {
        "run_id": run_id,
        "sessions": samples.sessions(),
        "session_id": session_id or (samples.sessions()[-1] if samples.sessions() else None),
        "iterations": list(run.iteration_ids),
        "metrics": [_metric(workspace.metrics[m]) for m in run.metric_ids],
        "cells": cells,
    }


def _cell(workspace: Workspace, iteration: str, metric: str, sample: Sample) -> dict[str, Any]:
    values = sample.values
    return {
        "iteration_id": iteration,
        "metric_id": metric,
        "session_id": sample.session_id,
        "values": values,
        "centre": centre(values, _kind(workspace, metric)) if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "statuses": sample.statuses,
        "reasons": [reason for _, reason in sample.problems if reason][:3],
        "nodeid": sample.last.get("nodeid"),
    }


def history(root: Path, run_id: str, iteration_id: str, metric_id: str) -> dict[str, Any]:
    """The trend of the pair's latest configuration across sessions (the report's own rule)."""
    workspace, samples = _samples(root, run_id, None)
    by_session = samples.by_pair.get((iteration_id, metric_id), {})
    if not by_session:
        return {"points": [], "sessions": 0, "other_configurations": 0}
    focus = by_session[max(by_session)]
    trend = build_trend(
        by_session,
        focus,
        _kind(workspace, metric_id),
        samples.dropped.get((iteration_id, metric_id)),
    )
    return {
        "points": [
            {"session_id": p.session_id, "centre": p.centre, "n": p.n} for p in trend.points
        ],
        "sessions": trend.sessions,
        "other_configurations": trend.other_configurations,
    }


def pareto(
    root: Path, run_id: str, x: str, y: str, session_id: str | None = None
) -> dict[str, Any]:
    """Each iteration's centres on two metrics and whether it is on the Pareto front."""
    workspace, samples = _samples(root, run_id, session_id)
    axes = [Axis(m, workspace.metrics[m].higher_is_better) for m in (x, y)]
    focus = samples.focus(session_id)
    points: dict[str, list[float | None]] = {}
    for iteration in workspace.run(run_id).iteration_ids:
        points[iteration] = [_centre(workspace, focus.get((iteration, m)), m) for m in (x, y)]
    front = pareto_front(points, axes)
    return {
        "axes": [{"metric_id": a.metric_id, "better": a.arrow} for a in axes],
        "points": [
            {"iteration_id": name, "x": p[0], "y": p[1], "on_front": front.on_front(name)}
            for name, p in points.items()
        ],
    }


def _centre(workspace: Workspace, sample: Sample | None, metric_id: str) -> float | None:
    if sample is None or not sample.values:
        return None
    return centre(sample.values, _kind(workspace, metric_id))


def item_detail(root: Path, run_id: str, session_id: str, nodeid: str) -> dict[str, Any]:
    """An item's record, its traceback (from its ``item.finish`` event) and the tail of its iteration's log."""
    root = Path(root).resolve()
    record = _find_record(ResultsStore(root), run_id, session_id, nodeid)
    finish = _finish_event(WorkspacePaths(root), session_id, nodeid)
    answer: dict[str, Any] = {
        "record": record,
        "event": finish,
        "traceback": (finish or {}).get("traceback"),
        "log_tail": [],
        "log": None,
    }
    if record is None:
        return answer
    key = execution_key(record["iteration_id"], int(record.get("repeat") or 0))
    log = WorkspacePaths(root).session_scratch(session_id) / f"{key}.log"
    if log.is_file():
        answer["log"] = log.relative_to(root).as_posix()
        answer["log_tail"] = read_tail(log, LOG_TAIL_LINES)
    return answer


def _finish_event(paths: WorkspacePaths, session_id: str, nodeid: str) -> dict[str, Any] | None:
    """The item's ``item.finish`` event in the workspace's stream (the latest, rotated file too)."""
    found = None
    stream = events_path(paths.events_dir)
    for path in (stream.with_name(ROTATED_FILE), stream):
        for event in read_events(path):
            if (
                event.get("event") == ITEM_FINISH
                and event.get("session_id") == session_id
                and event.get("nodeid") == nodeid
            ):
                found = event
    return found


def _find_record(
    store: ResultsStore, run_id: str, session_id: str, nodeid: str
) -> dict[str, Any] | None:
    """The item's record: in ``results.json`` once folded, else still in the session's journal."""
    found = None
    if store.path.exists():
        for record in store.run_records(run_id, [session_id]):
            if record.get("nodeid") == nodeid:
                found = record
    journal = store.journal_dir / f"{session_id}.jsonl"
    if found is None and journal.is_file():
        for record in read_journal(journal):
            if record.get("nodeid") == nodeid:
                found = record
    return found


def llm_costs(root: Path) -> dict[str, Any]:
    """Calls, tokens and USD per role (and the total) from the workspace's LLM traces."""
    records = list(TraceStore(Path(root).resolve()).records())
    return {
        "by_role": [
            {"role": row.key[0], **_totals(row.totals)} for row in summarise(records, ("role",))
        ],
        "total": _totals(totals(records)),
    }


def _totals(t: CostTotals) -> dict[str, Any]:
    return {
        "calls": t.calls,
        "failed_calls": t.failed_calls,
        "input_tokens": t.prompt_tokens,
        "output_tokens": t.output_tokens,
        "cost_usd": t.cost_usd,
        "unpriced_calls": t.unpriced_calls,
    }
