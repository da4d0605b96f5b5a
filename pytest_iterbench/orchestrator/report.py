"""The report step: the run's comparison report, with the checked narrative when a model writes one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.narrative import Narrative, latest_values
from pytest_iterbench.orchestrator.steps import Outcome, StepContext
from pytest_iterbench.report.reading import load_run_samples
from pytest_iterbench.report.writer import write_reports
from pytest_iterbench.results.store import ResultsStore
from pytest_iterbench.workspace.loader import Workspace

Narrator = Callable[[str, list[dict[str, Any]]], Narrative]


def report_action(
    root: Path, run_id: str, narrator: Narrator | None
) -> Callable[[StepContext], Outcome]:
    """Write ``reports/`` for the run's latest session (a review's re-runs included)."""

    def action(context: StepContext) -> Outcome:
        workspace = Workspace.load(root)
        run = workspace.run(run_id)
        store = ResultsStore(root)
        session = store.latest_session(run_id)
        if session is None:
            raise StepFailed(
                f"report:{run_id}", f"{store.path}: expected records of run {run_id!r}, found none"
            )
        narrative = Narrative()
        if narrator:
            narrative = narrator(run_id, latest_values(store.run_records(run_id)))
        paths = write_reports(
            root, load_run_samples(store, run_id, session), run_id,
            iteration_order=run.iteration_ids, metric_order=run.metric_ids,
            session_id=session, plots=False, sections=lambda comparison: narrative.blocks(),
        )  # fmt: skip
        produced = [p.relative_to(root).as_posix() for p in paths]
        return Outcome("done", produced, {"session_id": session, "narrative": narrative.to_json()})

    return action
