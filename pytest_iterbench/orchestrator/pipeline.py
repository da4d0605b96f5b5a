"""The orchestration: from a task to a reported benchmark, step by step, resumable anywhere.

``Orchestrator(options, roles).run()`` plans (or checks a hand-written plan),
then implements each planned iteration, benchmarks each planned run, reviews
its failures, reports it, and persists the workspace; every step is recorded
in ``state.json`` before and after it runs (see :mod:`.steps`). Running it
again continues at the first step not done.

>>> Orchestrator(Options(Path("ws"), planner="manual")).run()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.plan import Plan
from pytest_iterbench.llm.planner import Planner, load_manual_plan
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.orchestrator import killpoints
from pytest_iterbench.orchestrator.benchmark import benchmark_action, run_inputs
from pytest_iterbench.orchestrator.errors import OrchestrationError
from pytest_iterbench.orchestrator.git import GitPersistence
from pytest_iterbench.orchestrator.implement import Implementer, needs_code
from pytest_iterbench.orchestrator.metric_classes import MetricImplementer, module_file
from pytest_iterbench.orchestrator.models import ModelRoles
from pytest_iterbench.orchestrator.notebook_steps import NotebookSteps
from pytest_iterbench.orchestrator.report import report_action
from pytest_iterbench.orchestrator.review import RunReview
from pytest_iterbench.orchestrator.state import (
    Orchestration,
    PlannerName,
    StateFile,
    sha256_file,
    sha256_json,
)
from pytest_iterbench.orchestrator.steps import (
    ORCHESTRATION_FINISH,
    ORCHESTRATION_START,
    Outcome,
    Step,
    StepContext,
    StepRunner,
)
from pytest_iterbench.results.events import EventLog, events_path
from pytest_iterbench.workspace.paths import WorkspacePaths


@dataclass(frozen=True)
class Options:
    """What ``iterbench orchestrate`` was asked."""

    root: Path
    description: str | None = None
    notebook: Path | None = None
    plan: Path | None = None
    planner: PlannerName = "manual"
    git: bool = False
    push: str | None = None
    resume: bool = False
    rounds: int = 2
    workers: int = 0  # the benchmark's xdist workers (``-n``); 0: one process

    def task(self) -> dict[str, Any]:
        """The task as ``state.json`` records it (paths relative to the workspace)."""
        if self.notebook is not None:
            return {"kind": "notebook", "path": _relative(self.notebook, self.root)}
        if self.description is not None:
            return {"kind": "description", "description": self.description}
        return {
            "kind": "plan",
            "path": _relative(self.plan or WorkspacePaths(self.root).plan, self.root),
        }


def _metric_step(implementer: MetricImplementer, entry: dict[str, Any], path: Path) -> Step:
    return Step(
        f"metric:{entry['id']}", "metric", entry["id"],
        lambda: sha256_json(entry), implementer.action(entry, path),
        valid=lambda: not needs_code(path),
    )  # fmt: skip


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise OrchestrationError(f"{path}: expected a file inside the workspace {root}") from None


class Orchestrator:
    """Builds the steps of one orchestration and runs them (see the module's docstring)."""

    def __init__(
        self,
        options: Options,
        roles: ModelRoles | None = None,
        planner: Planner | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.options = options
        self.root = options.root.resolve()
        self.paths = WorkspacePaths(self.root)
        self.roles = roles
        self.planner = planner
        self.say = say

    def run(self) -> Orchestration:
        """Run every step not done; ``StepFailed`` names the first that fails."""
        orchestration = self._orchestration()
        with EventLog(events_path(self.paths.events_dir)) as events:
            committer = (
                GitPersistence(self.root, self.options.push, events) if self.options.git else None
            )
            if committer is not None:
                committer.prepare()
            runner = StepRunner(
                self.root, orchestration, events, committer=committer, say=self.say,
                cost=self.roles.cost if self.roles else lambda: 0.0,
            )  # fmt: skip
            events.emit(ORCHESTRATION_START, task=orchestration.task, planner=orchestration.planner)
            status = "failed"
            try:
                runner.run([self._plan_step(orchestration)], complete=False)
                runner.run(self._steps(orchestration, committer))
                status = "done"
            except KeyboardInterrupt:
                status = "interrupted"
                raise
            finally:
                events.emit(ORCHESTRATION_FINISH, status=status, cost_usd=orchestration.cost_usd)
        return orchestration

    # -- the state --------------------------------------------------------------------

    def _orchestration(self) -> Orchestration:
        found = StateFile(self.root).load()  # StateCorrupt first: nothing is written
        if found is None:
            if self.options.resume:
                raise OrchestrationError(
                    f"{self.paths.state}: --resume found no orchestration to resume"
                )
            task = self.options.task()
            if task["kind"] == "plan":  # a bad plan is refused before anything is written
                load_manual_plan(self.root / task["path"], self.root)
            return Orchestration(task=task, planner=self.options.planner)
        if not self.options.resume and found.task != self.options.task():
            raise OrchestrationError(
                f"{self.paths.state}: holds another orchestration (task {found.task}); "
                "resume it with --resume, or move state.json away to start a new one"
            )
        return found

    # -- the steps --------------------------------------------------------------------

    def _plan_step(self, orchestration: Orchestration) -> Step:
        task = orchestration.task
        plan_file = self.root / task["path"] if task["kind"] == "plan" else None

        def inputs() -> str:
            return sha256_json({"task": task, "planner": orchestration.planner,
                                "plan": sha256_file(plan_file) if plan_file else None})  # fmt: skip

        def action(context: StepContext) -> Outcome:
            if self._notebook_only(task):
                return Outcome(
                    "skipped", outputs={"reason": "no planner: the notebook's own steps"}
                )
            plan = self._make_plan(task, plan_file)
            applied = apply_plan(plan, self.root)
            orchestration.plan_hash = sha256_file(self.paths.plan)
            produced = ["plan.json", "iterations.json", "metrics.json", "runs.json"]
            produced += [
                p.relative_to(self.root).as_posix() for p in applied.created if p.is_file()
            ]
            return Outcome("done", produced, {"added": applied.added})

        def valid() -> bool:
            return self._notebook_only(task) or self.paths.plan.is_file()

        return Step("plan", "plan", None, inputs, action, valid=valid)

    def _notebook_only(self, task: dict[str, Any]) -> bool:
        """A notebook with the manual planner: no plan, only the notebook processor's steps."""
        return task["kind"] == "notebook" and self.planner is None

    def _make_plan(self, task: dict[str, Any], plan_file: Path | None) -> Plan:
        if plan_file is not None:
            plan = load_manual_plan(plan_file, self.root)
            if plan_file.resolve() != self.paths.plan:
                self._write_plan(plan)
            return plan
        if self.planner is None:
            raise OrchestrationError(
                f"the {task['kind']} task needs a planner (--planner claude-api)"
            )
        source = PlanTask.from_notebook(self.root / task["path"]) if task["kind"] == "notebook" \
            else PlanTask.from_description(task["description"])  # fmt: skip
        plan = self.planner.plan(source, self.root)
        self._write_plan(plan)
        return plan

    def _write_plan(self, plan: Plan) -> None:
        text = json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n"
        write_text_atomically(self.paths.plan, text)

    def _steps(self, orchestration: Orchestration, committer: GitPersistence | None) -> list[Step]:
        steps = [self._plan_step(orchestration)]
        if not self._notebook_only(orchestration.task):
            steps += self._plan_steps(orchestration)
        if orchestration.task["kind"] == "notebook":
            solver = "claude-api" if orchestration.planner == "claude-api" else "files"
            sender = self.roles.meter if self.roles is not None else None
            steps += NotebookSteps(self.root, orchestration.task["path"], solver, sender).steps()
        steps.append(self._persist_step(orchestration, committer))
        return steps

    def _plan_steps(self, orchestration: Orchestration) -> list[Step]:
        """Implement each planned iteration; benchmark, review and report each planned run."""
        plan = Plan.from_json(json.loads(self.paths.plan.read_text(encoding="utf-8")))
        implementer = Implementer(
            self.root, plan.description, self.roles, self.roles, self.options.rounds,
            kill=killpoints.kill_here,
        )  # fmt: skip
        steps = [self._implement_step(implementer, entry) for entry in plan.iterations]
        steps += self._metric_steps(plan)
        for run in plan.runs:
            steps += self._run_steps(orchestration, run["id"])
        return steps

    def _metric_steps(self, plan: Plan) -> list[Step]:
        """``metric:<id>`` for each plan metric whose class lives in ``metrics/``."""
        implementer = MetricImplementer(
            self.root, plan.description, self.roles, self.roles, self.options.rounds
        )
        found = [(e, module_file(self.root, e.get("class") or "")) for e in plan.metrics]
        return [_metric_step(implementer, entry, path) for entry, path in found if path]

    def _implement_step(self, implementer: Implementer, entry: dict[str, Any]) -> Step:
        path = self.root / entry["source_path"] / entry["entry_point"]
        return Step(
            f"implement:{entry['id']}", "implement", entry["id"],
            lambda: sha256_json(entry), implementer.action(entry),
            valid=lambda: not needs_code(path),
        )  # fmt: skip

    def _run_steps(self, orchestration: Orchestration, run_id: str) -> list[Step]:
        bench, review = f"benchmark:{run_id}", f"review:{run_id}"

        def outputs(step_id: str) -> dict[str, Any]:
            record = orchestration.step(step_id)
            return record.outputs if record else {}

        def review_action(context: StepContext) -> Outcome:
            failed = outputs(bench).get("failed", [])
            return RunReview(self.root, run_id, self.roles, self.options.rounds).action(failed)(
                context
            )

        narrator = self.roles.narrate if self.roles else None
        return [
            Step(bench, "benchmark", run_id, lambda: self._benchmark_inputs(orchestration, run_id),
                 benchmark_action(self.root, run_id, bench, self.options.workers)),
            Step(review, "review", run_id,
                 lambda: sha256_json([outputs(bench).get("session_id"), outputs(bench).get("failed")]),
                 review_action),
            Step(f"report:{run_id}", "report", run_id,
                 lambda: sha256_json([outputs(bench).get("session_id"), outputs(review).get("sessions"),
                                      narrator is not None]),
                 report_action(self.root, run_id, narrator)),
        ]  # fmt: skip

    def _benchmark_inputs(self, orchestration: Orchestration, run_id: str) -> str:
        """The run's inputs, where code the review fixed counts as the code the benchmark measured.

        Code edited by hand since the orchestrator last wrote it counts as
        changed: the benchmark (and what follows it) runs again.
        """
        written: dict[str, str] = {}  # live hash the orchestrator left -> hash the benchmark saw
        for step in orchestration.steps:
            if step.kind == "implement":
                written.update({h: h for h in step.produced.values()})
        for step in orchestration.steps:
            if step.kind == "review" and step.target == run_id:
                for path, digest in step.produced.items():
                    implement = next(
                        (
                            s
                            for s in orchestration.steps
                            if s.kind == "implement" and path in s.produced
                        ),
                        None,
                    )
                    written[digest] = implement.produced[path] if implement else digest
        return sha256_json([run_inputs(self.root, run_id, written)])

    def _persist_step(self, orchestration: Orchestration, committer: GitPersistence | None) -> Step:
        def inputs() -> str:
            return sha256_json(
                [[s.id, s.inputs] for s in orchestration.steps if s.kind != "persist"]
            )

        def action(context: StepContext) -> Outcome:
            if committer is None:
                return Outcome("skipped", outputs={"reason": "no --git"})
            return Outcome("done", outputs={"remote": self.options.push})

        return Step("persist", "persist", None, inputs, action)
