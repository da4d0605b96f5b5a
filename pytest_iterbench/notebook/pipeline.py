"""The notebook processor's pipeline: parse, solve, build, validate, export, archive.

For each ``*.ipynb`` in ``input/``, one step after the other, each writing its
result into the notebook's work folder (``.iterbench/notebooks/<stem>-<hash>/``)
and recording itself in ``state.json`` before the next starts:

| step | reads | writes |
| --- | --- | --- |
| parse | the input's bytes | ``assignment.ipynb`` (exactly what was read), ``exercises.json``, ``images/`` |
| solve | exercises | ``solutions.json`` (and ``bench/``, the alternatives' workspace) |
| build | assignment, solutions | ``built.ipynb`` |
| validate | built | ``validated.ipynb`` (executed through nbmake items) |
| export | validated | ``output/<name>_completed.ipynb``, ``.html``, ``_comparison_report.md`` |
| archive | outputs exist | ``done/<name>.ipynb`` |

A notebook whose content (SHA-256) is already done is skipped; a run killed
half-way resumes at the first unfinished step; a failure at build or validate
restarts at solve next time (the usual fix is a new solution).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nbformat import NotebookNode

from pytest_iterbench.llm.costs import CostTotals
from pytest_iterbench.llm.errors import ReviewLoopExhausted
from pytest_iterbench.llm.review_types import Attempt, Failure, Review
from pytest_iterbench.llm.reviewer import review_loop
from pytest_iterbench.notebook.alternatives import benchmark_alternatives, choice_text
from pytest_iterbench.notebook.archive import archive_input
from pytest_iterbench.notebook.build import build_notebook
from pytest_iterbench.notebook.claude_solver import failure_of, make_claude_solver
from pytest_iterbench.notebook.defaults import DEFAULT_CELL_TIMEOUT, DEFAULT_KERNEL, DEFAULT_METRICS
from pytest_iterbench.notebook.errors import (
    NotebookProcessorError,
    NotebookReadError,
    SolutionMissing,
)
from pytest_iterbench.notebook.exercises import Exercise, ExerciseMap
from pytest_iterbench.notebook.export import (
    ExportOptions,
    downscale_images,
    export_html,
    human_size,
)
from pytest_iterbench.notebook.kernels import KernelPool, check_kernels, notebook_kernel
from pytest_iterbench.notebook.nbio import read_notebook, reads_notebook, write_notebook
from pytest_iterbench.notebook.neighbours import copy_neighbours, neighbours
from pytest_iterbench.notebook.parse import find_exercises, unanswered_tasks
from pytest_iterbench.notebook.solvers import (
    RevisingSolver,
    Solution,
    SolveContext,
    Solver,
    make_solver,
)
from pytest_iterbench.notebook.state import (
    STEPS,
    NotebookProgress,
    StateStore,
    Step,
    bytes_hash,
    content_hash,
)
from pytest_iterbench.notebook.validate import (
    NotebookVerdict,
    ValidationReport,
    ValidationTarget,
    validate_notebooks,
)
from pytest_iterbench.workspace.paths import WorkspacePaths

WORK_ROOT = WorkspacePaths(Path()).notebooks_dir  # relative: progress records it so
BENCH_DIR = "bench"  # in a notebook's work folder: the workspace of its alternatives
StepHook = Callable[[Step, NotebookProgress], None]


@dataclass(frozen=True)
class PipelineOptions:
    """What ``iterbench notebook run`` was asked to do."""

    input_dir: Path
    workspace: Path | None = None  # default: the input folder's parent
    solver: str = "files"
    solutions: Path | None = None  # default: <workspace>/solutions, else <workspace>/solutions.json
    alternatives: int = 1
    metrics: tuple[str, ...] = DEFAULT_METRICS
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT
    kernel_name: str | None = None  # None: each notebook's kernelspec
    max_attempts: int = 3  # claude-api: solutions tried per notebook by the reviewer loop
    model: str | None = None  # claude-api: the model (default: the LLM layer's)
    export: ExportOptions = field(default_factory=ExportOptions)

    @property
    def root(self) -> Path:
        return (self.workspace or self.input_dir.resolve().parent).resolve()

    def solutions_path(self) -> Path:
        if self.solutions is not None:
            return self.solutions
        folder = self.root / "solutions"
        return (
            folder
            if folder.exists() or not (self.root / "solutions.json").exists()
            else self.root / "solutions.json"
        )


@dataclass
class PipelineSummary:
    """How many notebooks were processed, skipped as already done, or failed."""

    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, NotebookProcessorError] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass
class _Notebook:
    """One notebook in flight: where it came from, its work folder, its progress."""

    source: Path
    progress: NotebookProgress
    work: Path

    @property
    def stem(self) -> str:
        return Path(self.progress.name).stem

    def exercises(self) -> list[Exercise]:
        data = json.loads((self.work / "exercises.json").read_text(encoding="utf-8"))
        return [Exercise.from_json(e) for e in data["exercises"]]

    def read(self, name: str) -> NotebookNode:
        return read_notebook(self.work / name)


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def _write_json(path: Path, data: Any) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)


def chosen_solutions(work: Path) -> dict[str, Solution]:
    """The solutions the solve step chose, by exercise id."""
    data = json.loads((work / "solutions.json").read_text(encoding="utf-8"))
    return {k: Solution.from_json(v) for k, v in data["chosen"].items()}


def _keep_solution(work: Path, solution: Solution) -> None:
    """Make ``solution`` its exercise's chosen one in ``solutions.json`` (the reviewer's fix)."""
    data = json.loads((work / "solutions.json").read_text(encoding="utf-8"))
    data["chosen"][solution.exercise_id] = solution.to_json()
    data.setdefault("reviewed", {}).setdefault(solution.exercise_id, []).append(solution.to_json())
    _write_json(work / "solutions.json", data)


def _all_missing(missing: list[SolutionMissing], notebook: Path) -> SolutionMissing:
    """One error listing every exercise without a solution (a person reads it once)."""
    if len(missing) == 1:
        return missing[0]
    ids = [exc.exercise_id or "?" for exc in missing]
    where = missing[0].message.split(" (looked for")[0]
    return SolutionMissing(
        f"{where} for {len(ids)} exercises: {', '.join(ids)} (for each id: <id>.py, <id>.md or "
        "<id>.txt, <id>.r1.py... for several regions, an <id>/ folder of alternatives, or a JSON "
        "key; see docs/notebooks.md, 'Solvers')",
        notebook=notebook,
    )


class ReviewRound:
    """The reviewer loop of one notebook: failing check to the reviewer, revised answer, validate.

    At most ``solver.max_attempts`` validations in all (the first is the one
    that failed); each attempt prints one line, and each call is traced by the
    solver's client.
    """

    def __init__(self, pipeline: Pipeline, notebook: _Notebook, solver: RevisingSolver) -> None:
        self.pipeline = pipeline
        self.notebook = notebook
        self.solver = solver
        self.exercises = {e.id: e for e in notebook.exercises()}
        self.report = ValidationReport()

    def failure(self, verdict: NotebookVerdict) -> Failure:
        assert verdict.failure is not None
        assert verdict.exercise_id is not None
        chosen = chosen_solutions(self.notebook.work).get(verdict.exercise_id)
        return failure_of(
            verdict.message(),
            verdict.failure.traceback,
            verdict.exercise_id,
            verdict.failure.source,
            chosen.regions if chosen else (),
        )

    def _solve(self, number: int, review: Review | None) -> ValidationReport:
        if number == 1:
            return self.report
        verdict = self.report.verdicts[0]
        assert verdict.exercise_id is not None
        exercise = self.exercises[verdict.exercise_id]
        context = SolveContext(self.notebook.source)
        self.pipeline.say_attempt(number, f"asking {self.solver.name} to revise {exercise.id}")
        revised = self.solver.revise(exercise, context, self.failure(verdict), review, number)
        _keep_solution(self.notebook.work, revised)
        self.pipeline._build(self.notebook)
        return self.pipeline._validate_built(self.notebook)

    def _validate(self, report: ValidationReport) -> Failure | None:
        self.report = report
        verdict = report.verdicts[0]
        if verdict.passed:
            return None
        if verdict.exercise_id not in self.exercises:  # nothing the solver wrote: not reviewable
            report.raise_for_failures()
        return self.failure(verdict)

    def _review(self, number: int, failure: Failure) -> Review:
        exercise_id = self.report.verdicts[0].exercise_id or ""
        self.pipeline.say(f"  review    attempt {number}: asking the reviewer about {exercise_id}")
        return self.solver.review(failure, exercise_id, number)

    def _show(self, attempt: Attempt[ValidationReport]) -> None:
        self.pipeline.say_attempt(attempt.number, attempt.solution.verdicts[0].message())

    def run(self, report: ValidationReport) -> ValidationReport:
        """The first passing report, or the last failing one after every attempt."""
        self.report = report
        try:
            result = review_loop(
                self._solve, self._validate, self._review,
                max_attempts=self.solver.max_attempts, on_attempt=self._show,
            )  # fmt: skip
        except ReviewLoopExhausted:
            self.pipeline.say(f"  review    gave up after {self.solver.max_attempts} attempt(s)")
            return self.report
        return result.solution


class Pipeline:
    """Runs the steps over ``input/``, printing progress per notebook and per step.

    ``pool`` and ``solver`` may be given (tests share a warm kernel pool);
    ``on_step`` is called after every finished step (a test stops a run there).
    """

    def __init__(
        self,
        options: PipelineOptions,
        *,
        pool: KernelPool | None = None,
        solver: Solver | None = None,
        out: TextIO | None = None,
        on_step: StepHook | None = None,
    ) -> None:
        self.options = options
        self.root = options.root
        self.out = out or sys.stdout
        self.on_step = on_step
        self.store = StateStore(self.root)
        self._solver = solver
        self._pool = pool
        self._own_pool = pool is None
        self._usual_kernel = DEFAULT_KERNEL
        self._started = time.perf_counter()

    @property
    def solver(self) -> Solver:
        if self._solver is None and self.options.solver == "claude-api":
            self._solver = make_claude_solver(
                self.root, model=self.options.model, max_attempts=self.options.max_attempts
            )
        if self._solver is None:
            self._solver = make_solver(self.options.solver, solutions=self.options.solutions_path())
        return self._solver

    def _elapsed(self) -> str:
        text = f"{time.perf_counter() - self._started:.1f} s"
        cost = getattr(self._solver, "cost", None)
        return f"{text}, ${cost.cost_text()} so far" if isinstance(cost, CostTotals) else text

    @property
    def pool(self) -> KernelPool:
        if self._pool is None:
            self._pool = KernelPool(self.options.kernel_name or self._usual_kernel, size=1)
        return self._pool

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def inputs(self) -> list[Path]:
        folder = self.options.input_dir
        if not folder.is_dir():
            raise NotebookProcessorError(f"input folder not found: {folder}")
        return sorted(p for p in folder.glob("*.ipynb") if p.is_file())

    def run(self) -> PipelineSummary:
        """Process every notebook of the input folder; never stops at one notebook's failure."""
        summary = PipelineSummary()
        paths = self.inputs()
        self._check_kernels(paths)
        if self._solver is None and self._any_exercise(paths):
            _ = self.solver  # a solver that cannot run fails here, before any notebook is touched
        orphans = self._interrupted_archives(paths)
        if not paths and not orphans:
            self.say(f"no notebooks in {self.options.input_dir}: nothing to do")
        try:
            for number, path in enumerate([*orphans, *paths], start=1):
                self._process(path, f"[{number}/{len(paths) + len(orphans)}]", summary)
        finally:
            if self._own_pool and self._pool is not None:
                self._pool.close()
        self.say(
            f"{len(summary.processed)} processed, {len(summary.skipped)} already done, {len(summary.failed)} failed"
        )
        total = self._spent()
        if total is not None and total.calls:
            self.say(
                f"LLM cost ${total.cost_text()} in {total.calls} call(s); "
                f"`iterbench costs --dir {self.root}` sums the trace"
            )
        return summary

    def run_step(self, path: Path, step: Step) -> str:
        """One step for one notebook of the input folder (the orchestrator drives them in order).

        A step finished earlier whose files are still there is not run again;
        the last step marks the notebook done. Returns the step's summary line;
        raises ``NotebookProcessorError`` (recorded in ``state.json``) when it fails.
        """
        if path.exists():
            self._check_kernels([path])
        notebook = self._open(path)
        progress = notebook.progress
        if step in progress.finished and self._artifacts_exist(step, notebook):
            return str(progress.finished[step]["summary"])
        progress.status = "running"
        summary = PipelineSummary()
        if not self._run_step(step, notebook, summary):
            raise summary.failed[path.name]
        if step == STEPS[-1]:
            progress.status = "done"
            self.store.save(progress)
        return str(progress.finished[step]["summary"])

    def close(self) -> None:
        """Stop the kernel pool this pipeline started (``run`` does it itself)."""
        if self._own_pool and self._pool is not None:
            self._pool.close()
            self._pool = None

    def _any_exercise(self, paths: list[Path]) -> bool:
        """Whether some input has exercises (a notebook without any needs no solver)."""
        for path in paths:
            try:
                if find_exercises(read_notebook(path)):
                    return True
            except NotebookReadError:
                continue  # reported by its own parse step
        return False

    def _check_kernels(self, paths: list[Path]) -> None:
        """Every kernel the inputs ask for is installed, or ``KernelMissing`` before anything runs."""
        wanted: dict[str, list[str]] = {}
        for path in paths:
            try:
                metadata = read_notebook(path).metadata
            except NotebookReadError:
                continue  # reported by its own parse step
            name = notebook_kernel(metadata, self.options.kernel_name)
            wanted.setdefault(name, []).append(
                "--kernel" if self.options.kernel_name else path.name
            )
        check_kernels({name: list(dict.fromkeys(who)) for name, who in wanted.items()})
        if wanted:
            self._usual_kernel = max(wanted, key=lambda name: len(wanted[name]))

    def _interrupted_archives(self, paths: list[Path]) -> list[Path]:
        """Inputs a killed run had half-archived: gone from input/, staged in done/."""
        return [
            self.root / progress.source
            for progress in self.store.all()
            if progress.status != "done"
            and "export" in progress.finished
            and "archive" not in progress.finished
            and not (self.root / progress.source).exists()
            and any((self.root / "done").glob(f".{progress.name}.*.archiving"))
        ]

    def _open(self, path: Path) -> _Notebook:
        if not path.exists():  # an interrupted archive: the progress is found by name
            progress = next(p for p in self.store.all() if self.root / p.source == path)
            return _Notebook(path, progress, self.root / progress.work)
        sha = content_hash(path)
        work = WORK_ROOT / f"{path.stem}-{sha[:8]}"
        progress = self.store.load(sha) or NotebookProgress(
            sha, path.name, _relative(path, self.root), str(work)
        )
        if (
            progress.status == "failed"
            and progress.error
            and progress.error.get("step") in ("build", "validate")
        ):
            progress.forget_from("solve")
        return _Notebook(path, progress, self.root / progress.work)

    def _process(self, path: Path, counter: str, summary: PipelineSummary) -> None:
        notebook = self._open(path)
        progress = notebook.progress
        self.say(f"{counter} {path.name} (sha256 {progress.sha256[:8]})")
        if progress.status == "done" and self._outputs_exist(notebook):
            archived = f", archived as {progress.archived_to}" if progress.archived_to else ""
            self.say(
                f"  already processed (same content{archived}): {', '.join(progress.outputs)}; "
                "nothing to do. Remove it from input/, or edit it to process it again"
            )
            summary.skipped.append(path.name)
            return
        if "validate" not in progress.finished:
            self.pool.warm()  # the kernel boots while parse and solve run
        progress.status = "running"
        spent = self._spent()
        try:
            for step in STEPS:
                if step in progress.finished and self._artifacts_exist(step, notebook):
                    self.say(f"  {step:<9} done earlier: {progress.finished[step]['summary']}")
                    continue
                if not self._run_step(step, notebook, summary):
                    return
            progress.status = "done"
            self.store.save(progress)
            summary.processed.append(path.name)
        finally:
            self._say_cost(spent, path.name)

    def _spent(self) -> CostTotals | None:
        cost = getattr(self._solver, "cost", None)
        return dataclasses.replace(cost) if isinstance(cost, CostTotals) else None

    def _say_cost(self, before: CostTotals | None, name: str) -> None:
        """The LLM cost of one notebook: the solver's totals now, less those before it."""
        now = self._spent()
        if now is None:
            return
        base = before or CostTotals()
        calls = now.calls - base.calls
        usd = now.cost_usd - base.cost_usd
        tokens = (now.prompt_tokens - base.prompt_tokens, now.output_tokens - base.output_tokens)
        self.say(
            f"  cost      ${usd:.4f} for {name}: {calls} call(s), "
            f"{tokens[0]:,} input and {tokens[1]:,} output token(s)"
        )

    def _say_solutions(
        self, number: int, total: int, exercise_id: str, found: list[Solution]
    ) -> None:
        names = ", ".join(s.alternative for s in found)
        self.say(
            f"    exercise  {number}/{total} {exercise_id}: {len(found)} solution(s) "
            f"({names}) ({self._elapsed()})"
        )

    def _say_benchmark(self, options: dict[str, list[Solution]]) -> None:
        several = {k: len(v) for k, v in options.items() if len(v) > 1}
        self.say(
            f"    benchmark {sum(several.values())} alternative(s) of {len(several)} exercise(s) "
            f"through the harness by {', '.join(self.options.metrics)} ({self._elapsed()})"
        )

    def _run_step(self, step: Step, notebook: _Notebook, summary: PipelineSummary) -> bool:
        progress = notebook.progress
        progress.forget_from(step)
        started = time.perf_counter()
        try:
            text = getattr(self, f"_{step}")(notebook)
        except NotebookProcessorError as exc:
            progress.status = "failed"
            progress.error = {**exc.to_json(), "step": step}
            self.store.save(progress)
            self.say(f"  {step:<9} FAILED: {exc}")
            summary.failed[notebook.source.name] = exc
            return False
        seconds = time.perf_counter() - started
        progress.finish(step, seconds, text)
        self.store.save(progress)
        self.say(f"  {step:<9} ok {seconds:6.2f} s  {text}")
        if self.on_step is not None:
            self.on_step(step, progress)
        return True

    def _outputs_exist(self, notebook: _Notebook) -> bool:
        return bool(notebook.progress.outputs) and all(
            (self.root / p).is_file() for p in notebook.progress.outputs
        )

    def _artifacts_exist(self, step: Step, notebook: _Notebook) -> bool:
        files = {
            "parse": ["assignment.ipynb", "exercises.json"],
            "solve": ["solutions.json"],
            "build": ["built.ipynb"],
            "validate": ["validated.ipynb"],
        }
        if step == "export":
            return self._outputs_exist(notebook)
        if step == "archive":
            return (
                notebook.progress.archived_to is not None
                and (self.root / notebook.progress.archived_to).is_file()
            )
        return all((notebook.work / name).is_file() for name in files[step])

    # The steps: each returns a one-line summary, or raises NotebookProcessorError.

    def _parse(self, notebook: _Notebook) -> str:
        data = notebook.source.read_bytes()
        if bytes_hash(data) != notebook.progress.sha256:
            raise NotebookReadError("changed while being read; run again", notebook=notebook.source)
        notebook.work.mkdir(parents=True, exist_ok=True)
        (notebook.work / "assignment.ipynb").write_bytes(data)
        nb = reads_notebook(data, notebook.source)
        exercises = find_exercises(nb, notebook.source.parent)
        tasks = unanswered_tasks(nb, exercises)
        for exercise in exercises:
            folder = notebook.work / "images" / exercise.id
            for image in exercise.images:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / image.name).write_bytes(image.data)
        _write_json(
            notebook.work / "exercises.json", {"exercises": [e.to_json() for e in exercises]}
        )
        listed = ", ".join(f"{e.id} ({e.style})" for e in exercises)
        text = (
            f"{len(exercises)} exercise(s): {listed}"
            if exercises
            else "no exercises: the notebook is run, exported and archived as it is"
        )
        if tasks:
            text += "; tasks without an answer cell: " + ", ".join(
                f"{name} (cell {index})" for name, index in tasks
            )
        return text

    def _solve(self, notebook: _Notebook) -> str:
        exercises = notebook.exercises()
        if not exercises:
            _write_json(notebook.work / "solutions.json", {"chosen": {}, "alternatives": {}})
            return "nothing to solve"
        options: dict[str, list[Solution]] = {}
        missing: list[SolutionMissing] = []
        for number, exercise in enumerate(exercises, start=1):
            images = notebook.work / "images" / exercise.id
            context = SolveContext(
                notebook.source, images if images.is_dir() else None, self.options.alternatives
            )
            try:
                options[exercise.id] = self.solver.solve(exercise, context)
            except SolutionMissing as exc:
                missing.append(exc)
                self.say(f"    exercise  {number}/{len(exercises)} {exercise.id}: no solution")
                continue
            self._say_solutions(number, len(exercises), exercise.id, options[exercise.id])
        if missing:
            raise _all_missing(missing, notebook.source)
        chosen = {exercise_id: found[0] for exercise_id, found in options.items()}
        benchmark: dict[str, Any] = {}
        text = f"{self.solver.name} solver: {len(chosen)} solution(s)"
        if self.options.alternatives > 1 and any(len(found) > 1 for found in options.values()):
            self._say_benchmark(options)
            outcome = benchmark_alternatives(
                notebook.work / BENCH_DIR,
                notebook.read("assignment.ipynb"),
                exercises,
                options,
                notebook_dir=notebook.source.parent.resolve(),
                metric_ids=self.options.metrics,
            )
            for exercise_id, choice in outcome.choices.items():
                chosen[exercise_id] = next(
                    s for s in options[exercise_id] if s.alternative == choice.alternative
                )
                if choice.figures:
                    self.say(
                        f"    kept      {exercise_id}: {choice_text(choice)} ({self._elapsed()})"
                    )
            benchmark = {
                "choices": {k: c.to_json() for k, c in outcome.choices.items()},
                "report": str(outcome.report) if outcome.report else None,
                "metrics": list(self.options.metrics),
            }
            picked = ", ".join(
                f"{k}: {c.alternative}" for k, c in outcome.choices.items() if c.figures
            )
            text += (
                f"; alternatives benchmarked by {', '.join(self.options.metrics)}, kept {picked}"
            )
        _write_json(
            notebook.work / "solutions.json",
            {
                "chosen": {k: s.to_json() for k, s in chosen.items()},
                "alternatives": {k: [s.to_json() for s in v] for k, v in options.items()},
                "benchmark": benchmark,
            },
        )
        return text

    def _build(self, notebook: _Notebook) -> str:
        chosen = chosen_solutions(notebook.work)
        exercises = notebook.exercises()
        built = build_notebook(
            notebook.read("assignment.ipynb"), exercises, chosen, notebook=notebook.source
        )
        write_notebook(notebook.work / "built.ipynb", built)
        regions = sum(len(e.regions) for e in exercises)
        return f"{regions} answer region(s) filled in {len({c for e in exercises for c in e.answer_cells})} cell(s)"

    def _validate_built(self, notebook: _Notebook) -> ValidationReport:
        target = ValidationTarget(
            notebook.work / "built.ipynb",
            cwd=notebook.source.parent,
            name=notebook.progress.name,
            exercises=ExerciseMap.from_exercises(notebook.exercises()),
        )
        return validate_notebooks(
            [target],
            pool=self.pool,
            cell_timeout=self.options.cell_timeout,
            kernel_name=self.options.kernel_name,
            quiet=True,
        )

    def attempts(self) -> int:
        """Validations one notebook may get: the reviewer loop's attempts, else one."""
        solver = self._solver  # none made yet: a notebook without exercises needs none
        return solver.max_attempts if isinstance(solver, RevisingSolver) else 1

    def say_attempt(self, number: int, what: str) -> None:
        self.say(f"  attempt   {number}/{self.attempts()} {what} ({self._elapsed()})")

    def _validate(self, notebook: _Notebook) -> str:
        self.say_attempt(1, f"validating {notebook.progress.name} through nbmake")
        report = self._validate_built(notebook)
        solver = self._solver
        if report.passed or not isinstance(solver, RevisingSolver):
            self.say_attempt(1, report.verdicts[0].message())
        else:
            report = ReviewRound(self, notebook, solver).run(report)
        report.raise_for_failures()
        verdict = report.verdicts[0]
        assert verdict.executed is not None
        verdict.executed.metadata = notebook.read(
            "built.ipynb"
        ).metadata  # the assignment's, untouched
        write_notebook(notebook.work / "validated.ipynb", verdict.executed)
        return f"nbmake: {notebook.progress.name} {verdict.message()} ({verdict.seconds:.2f} s)"

    def _export(self, notebook: _Notebook) -> str:
        nb = notebook.read("validated.ipynb")
        output = self.root / "output"
        output.mkdir(parents=True, exist_ok=True)
        notes = []
        if self.options.export.max_image_px:
            stats = downscale_images(nb, self.options.export.max_image_px)
            notes.append(f"{stats.downscaled}/{stats.images} image(s) downscaled")
        completed = output / f"{notebook.stem}_completed.ipynb"
        write_notebook(completed, nb)
        html, folded = export_html(
            nb,
            output / f"{notebook.stem}_completed.html",
            resources_dir=notebook.source.parent,
            options=self.options.export,
        )
        if self.options.export.dedupe_images:
            notes.append(f"{folded} duplicate image(s) folded")
        written = [completed, html]
        used = neighbours(notebook.read("assignment.ipynb"), notebook.source.parent)
        copied = copy_neighbours(used, output)
        if copied:
            notes.append(f"with {', '.join(p.name for p in copied)}")
        report = WorkspacePaths(notebook.work / BENCH_DIR).report
        solutions = json.loads((notebook.work / "solutions.json").read_text(encoding="utf-8"))
        if solutions.get("benchmark") and report.is_file():
            copy = output / f"{notebook.stem}_comparison_report.md"
            shutil.copyfile(report, copy)
            written.append(copy)
        notebook.progress.outputs = [str(p.relative_to(self.root)) for p in written]
        before = (notebook.work / "assignment.ipynb").stat().st_size
        sizes = f"size {human_size(before)} -> ipynb {human_size(completed.stat().st_size)}, html {human_size(html.stat().st_size)}"
        return "; ".join([", ".join(p.name for p in written), sizes, *notes])

    def _archive(self, notebook: _Notebook) -> str:
        missing = [p for p in notebook.progress.outputs if not (self.root / p).is_file()]
        if missing or not notebook.progress.outputs:
            raise NotebookProcessorError(
                f"outputs missing, not archiving: {', '.join(missing) or '(none)'}",
                notebook=notebook.source,
            )
        used = neighbours(notebook.read("assignment.ipynb"), notebook.source.parent)
        copy_neighbours(used, self.root / "done")
        archived = archive_input(notebook.source, self.root / "done", notebook.progress.sha256)
        notebook.progress.archived_to = str(archived.relative_to(self.root))
        return notebook.progress.archived_to
