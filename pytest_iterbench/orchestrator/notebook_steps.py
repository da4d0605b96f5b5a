"""The notebook steps: the notebook processor's own steps, run one by one as orchestrator steps.

When the task is a notebook (``iterbench orchestrate --notebook NB``), the
orchestration adds ``notebook:parse``, ``notebook:solve``, ``notebook:build``,
``notebook:validate``, ``notebook:export`` and ``notebook:archive``, each
driving ``Pipeline.run_step`` for that notebook. The processor keeps its own
progress in ``state.json`` (under ``"notebooks"``); a step counts as done
only while that progress still records it, so a failed build or validation
solves again first (the processor's rule). The solver is the given
solutions (``solutions/``, ``solutions.json``) without a model, Claude with
the ``claude-api`` planner: through the orchestration's own metered sender,
so that a notebook step's model calls count in its ``cost_usd`` and the
orchestration's. The processor's output goes to
``.iterbench/orchestrator/notebook.log``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iterbench.notebook.state import STEPS, NotebookProgress, StateStore, content_hash
from pytest_iterbench.notebook.state import Step as NotebookStep
from pytest_iterbench.orchestrator.errors import StepFailed
from pytest_iterbench.orchestrator.state import sha256_json
from pytest_iterbench.orchestrator.steps import Outcome, Step, StepContext
from pytest_iterbench.workspace.paths import WorkspacePaths

if TYPE_CHECKING:
    from pytest_iterbench.llm.messages import MessageSender
    from pytest_iterbench.notebook.solvers import Solver

#: The processor's failures at these steps send it back to solve.
RESOLVE_AFTER = ("build", "validate")


@dataclass(frozen=True)
class NotebookSteps:
    """The steps for one notebook (``relative``: its path in the workspace, as the task records it)."""

    root: Path
    relative: str
    solver: str = "files"
    #: claude-api: the orchestration's sender (its cost meter sums every call); None: the processor's own.
    sender: MessageSender | None = None

    @property
    def path(self) -> Path:
        return self.root / self.relative

    def steps(self) -> list[Step]:
        """One orchestrator step per processor step, in the processor's order."""
        return [
            Step(f"notebook:{name}", "notebook", Path(self.relative).name,
                 self._inputs(name), self._action(name), self._valid(name))
            for name in STEPS
        ]  # fmt: skip

    def progress(self) -> NotebookProgress | None:
        """The processor's record of this notebook (found by its source once archived)."""
        store = StateStore(self.root)
        if self.path.is_file():
            return store.load(content_hash(self.path))
        return next((p for p in store.all() if p.source == self.relative), None)

    def _inputs(self, name: NotebookStep) -> Callable[[], str]:
        def inputs() -> str:
            progress = self.progress()
            sha = content_hash(self.path) if self.path.is_file() else progress and progress.sha256
            return sha256_json([sha, name, self.solver])

        return inputs

    def _valid(self, name: NotebookStep) -> Callable[[], bool]:
        def valid() -> bool:
            progress = self.progress()
            if progress is None or name not in progress.finished:
                return False
            failed_at = (progress.error or {}).get("step") if progress.status == "failed" else None
            return not (name == "solve" and failed_at in RESOLVE_AFTER)

        return valid

    def _action(self, name: NotebookStep) -> Callable[[StepContext], Outcome]:
        def action(context: StepContext) -> Outcome:
            if not self.path.is_file() and self.progress() is None:
                raise StepFailed(
                    f"notebook:{name}", f"{self.relative}: expected the notebook, found nothing"
                )
            # The processor (nbconvert, nbclient) loads only when a notebook step runs.
            from pytest_iterbench.notebook.errors import NotebookProcessorError
            from pytest_iterbench.notebook.pipeline import Pipeline, PipelineOptions

            log = WorkspacePaths(self.root).orchestrator_dir / "notebook.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            options = PipelineOptions(self.path.parent, workspace=self.root, solver=self.solver)
            with log.open("a", encoding="utf-8") as out:
                pipeline = Pipeline(options, out=out, solver=self._solver())
                try:
                    summary = pipeline.run_step(self.path, name)
                except NotebookProcessorError as exc:
                    raise StepFailed(f"notebook:{name}", str(exc)) from exc
                finally:
                    pipeline.close()
            return Outcome("done", self._produced(name), {"summary": summary})

        return action

    def _solver(self) -> Solver | None:
        """Claude through the orchestration's sender; None lets the processor make its solver."""
        if self.solver != "claude-api" or self.sender is None:
            return None
        from pytest_iterbench.notebook.claude_solver import ClaudeApiSolver

        return ClaudeApiSolver(self.sender)

    def _produced(self, name: NotebookStep) -> list[str]:
        progress = self.progress()
        if progress is None:
            return []
        if name == "export":
            return list(progress.outputs)
        if name == "archive" and progress.archived_to:
            return [progress.archived_to]
        return []
