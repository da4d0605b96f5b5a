"""``iterbench status``: where the work stands, from ``state.json`` alone.

>>> print(render_status(state))  # doctest: +SKIP
step               status   attempts  seconds  cost      note
plan               done     1         0.4      $0.0000
implement:v2-mlp   failed   2         3.1      $0.0123   smoke check: ...
"""

from __future__ import annotations

from typing import Any

from pytest_iterbench.orchestrator.state import Orchestration

COLUMNS = ("step", "status", "attempts", "seconds", "cost", "note")


def status_json(orchestration: Orchestration) -> dict[str, Any]:
    """The state's orchestration, with a summary: counts by status, the next step, the failures."""
    data = orchestration.to_json()
    counts: dict[str, int] = {}
    for step in orchestration.steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    pending = next((s.id for s in orchestration.steps if s.status not in ("done", "skipped")), None)
    failed = [{"step": s.id, "error": s.error} for s in orchestration.steps if s.status == "failed"]
    data["summary"] = {"counts": counts, "next": pending, "failed": failed}
    return data


def _note(step: Any) -> str:
    if step.error:
        return str(step.error).splitlines()[0][:80]
    if step.outputs.get("reason"):
        return str(step.outputs["reason"])
    return ""


def render_status(orchestration: Orchestration) -> str:
    """A plain-text table of the steps, then the totals and the git state."""
    rows = [COLUMNS] + [
        (s.id, s.status, str(s.attempts), "" if s.seconds is None else f"{s.seconds:.1f}",
         f"${s.cost_usd:.4f}", _note(s))
        for s in orchestration.steps
    ]  # fmt: skip
    widths = [max(len(row[k]) for row in rows) for k in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    summary = status_json(orchestration)["summary"]
    lines.append("")
    lines.append(f"task: {orchestration.task}  planner: {orchestration.planner}")
    lines.append(
        f"cost so far: ${orchestration.cost_usd:.4f}; next step: {summary['next'] or 'none (finished)'}"
    )
    git = orchestration.git
    if git.last_commit or git.remote:
        push = (
            f"push pending ({git.push_failures} failed: {git.last_push_error})"
            if git.push_pending
            else "pushed"
        )
        lines.append(
            f"git: last commit {git.last_commit or '-'}; remote {git.remote or '-'}: {push if git.remote else 'none'}"
        )
    return "\n".join(lines) + "\n"
