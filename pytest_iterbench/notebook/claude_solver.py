"""``--solver claude-api``: exercises answered by Claude, failures reviewed by Claude.

``ClaudeApiSolver`` turns an exercise into the LLM layer's ``ExerciseTask``:
the instruction and its images (image blocks), the answer cell as given, the
checks and stated expectations after it, the notebook's earlier cells, and
``instructions.md`` and ``images/`` beside the notebook in ``input/``. The
answers come back as structured output, checked before they are written.

When validation fails, the pipeline's reviewer loop calls ``review`` (the
failing check, its output and traceback go to the reviewer) and ``revise``
(the review's code, or a new answer asked with the failure as feedback).
Every call is traced in the workspace (``iterbench costs`` sums them);
``cost`` is what this solver spent so far.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbformat import NotebookNode

from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.costs import CostTotals
from pytest_iterbench.llm.errors import LlmError
from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.llm.reviewer import ClaudeReviewer
from pytest_iterbench.llm.secrets import resolve_api_key
from pytest_iterbench.llm.solver import (
    IMAGE_TYPES,
    ClaudeExerciseSolver,
    CostMeter,
    ExerciseTask,
    TaskImage,
)
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.notebook.errors import SolverError, SolverNotConfigured
from pytest_iterbench.notebook.exercises import Exercise
from pytest_iterbench.notebook.expected import expectation_text
from pytest_iterbench.notebook.nbio import read_notebook
from pytest_iterbench.notebook.solvers import Solution, SolveContext

if TYPE_CHECKING:
    import httpx2

CONTEXT_CHARS = 12_000
INSTRUCTIONS_CHARS = 20_000
FOLDER_IMAGES = 8
DEFAULT_MAX_ATTEMPTS = 3


def _cells_text(nb: NotebookNode, indices: range | list[int]) -> str:
    return "\n\n".join(
        f"# [cell {i}, {nb.cells[i].cell_type}]\n{nb.cells[i].source}" for i in indices
    )


def _folder_images(folder: Path) -> list[TaskImage]:
    images = folder / "images"
    if not images.is_dir():
        return []
    found = []
    for path in sorted(images.iterdir()):
        mime = mimetypes.guess_type(path.name)[0] or ""
        if path.is_file() and mime in IMAGE_TYPES:
            found.append(TaskImage(f"images/{path.name}", mime, path.read_bytes()))
    return found[:FOLDER_IMAGES]


class ClaudeApiSolver:
    """Solutions from a model through the LLM layer (see the module docstring)."""

    name = "claude-api"

    def __init__(self, sender: MessageSender, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        self.meter = CostMeter(sender)
        self.solver = ClaudeExerciseSolver(self.meter)
        self.reviewer = ClaudeReviewer(self.meter)
        self.max_attempts = max(1, max_attempts)
        self._notebooks: dict[Path, NotebookNode] = {}

    @property
    def cost(self) -> CostTotals:
        """What this solver's calls cost so far."""
        return self.meter.totals

    def _notebook(self, path: Path) -> NotebookNode:
        if path not in self._notebooks:
            self._notebooks[path] = read_notebook(path)
        return self._notebooks[path]

    def task(self, exercise: Exercise, context: SolveContext, feedback: str = "") -> ExerciseTask:
        """What the model is told about ``exercise`` (public for tests and other solvers)."""
        nb = self._notebook(context.notebook)
        first = min([*exercise.instruction_cells, *exercise.answer_cells])
        earlier = _cells_text(nb, range(first))[-CONTEXT_CHARS:]
        after = range(max(exercise.answer_cells) + 1, min(len(nb.cells), exercise.last_cell + 3))
        checks = [
            i for i in after
            if i in exercise.check_cells or expectation_text(nb.cells[i].source) is not None
        ]  # fmt: skip
        folder = context.notebook.parent
        instructions = folder / "instructions.md"
        images = [TaskImage(i.name, i.mime, i.data) for i in exercise.images]
        return ExerciseTask(
            exercise_id=exercise.id,
            instruction=exercise.instruction,
            region_kinds=tuple(r.kind for r in exercise.regions),
            answer_source=exercise.answer_source,
            checks=_cells_text(nb, checks),
            context=earlier,
            images=tuple(images + _folder_images(folder)),
            instructions_md=(
                instructions.read_text(encoding="utf-8")[:INSTRUCTIONS_CHARS]
                if instructions.is_file()
                else ""
            ),
            feedback=feedback,
        )

    def _ask(
        self, exercise: Exercise, context: SolveContext, feedback: str, attempt: int | None
    ) -> list[Solution]:
        task = self.task(exercise, context, feedback)
        iteration = f"{context.notebook.stem}:{exercise.id}"
        try:
            answers = self.solver.solve(
                task, alternatives=context.alternatives, iteration_id=iteration, attempt=attempt
            )
        except LlmError as exc:
            raise SolverError(
                str(exc), notebook=context.notebook, exercise_id=exercise.id
            ) from None
        distinct: dict[tuple[str, ...], str] = {}  # the same code twice is one alternative
        for answer in answers:
            distinct.setdefault(answer.regions, answer.name)
        return [
            Solution(exercise.id, regions, name if len(distinct) > 1 else "default", self.name)
            for regions, name in distinct.items()
        ]

    def solve(self, exercise: Exercise, context: SolveContext) -> list[Solution]:
        return self._ask(exercise, context, "", 1)

    def review(self, failure: Failure, exercise_id: str, attempt: int) -> Review:
        """The reviewer's diagnosis and fix of a failed validation."""
        try:
            return self.reviewer.review(failure, iteration_id=exercise_id, attempt=attempt)
        except LlmError as exc:
            raise SolverError(str(exc), exercise_id=exercise_id) from None

    def revise(
        self,
        exercise: Exercise,
        context: SolveContext,
        failure: Failure,
        review: Review | None,
        attempt: int,
    ) -> Solution:
        """A new solution after ``failure``: asked again with the failure and the review."""
        notes = [failure.to_prompt()]
        if review is not None:
            notes.append(f"Reviewer's diagnosis: {review.diagnosis}")
            if review.code:
                notes.append(f"Reviewer's proposed code:\n{review.code}")
        solutions = self._ask(exercise, replace_alternatives(context), "\n\n".join(notes), attempt)
        return solutions[0]


def replace_alternatives(context: SolveContext) -> SolveContext:
    """The same context asking for one solution (a revision is one answer)."""
    return SolveContext(context.notebook, context.images_dir, 1)


def make_claude_solver(
    root: Path,
    *,
    api_key: str | None = None,
    model: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    http_client: httpx2.Client | None = None,
) -> ClaudeApiSolver:
    """The solver over a ``ClaudeClient`` tracing into ``root``; ``SolverNotConfigured`` without a key."""
    try:
        from pytest_iterbench.llm.client import ClaudeClient  # the llm extra, only when used
    except ImportError as exc:
        raise SolverNotConfigured(
            f"the claude-api solver needs the llm extra ({exc.name} is missing): "
            "pip install 'pytest-iterbench[llm]'"
        ) from None
    try:
        key = resolve_api_key(api_key, dotenv_dirs=[root, Path.cwd()])
    except LlmError as exc:
        raise SolverNotConfigured(f"the claude-api solver needs an API key: {exc}") from None
    config = ClientConfig(model) if model else ClientConfig()
    client = ClaudeClient(key, config, traces=TraceStore(root), http_client=http_client)
    return ClaudeApiSolver(client, max_attempts=max_attempts)


def failure_of(
    message: str, traceback: str, exercise_id: str, failing_cell: str, answer: Any
) -> Failure:
    """The reviewer's view of a failed validation: the check, its output and traceback, the answer."""
    return Failure(
        kind="check",
        message=f"{message}\nThe failing cell:\n{failing_cell}",
        traceback=traceback,
        target=f"exercise {exercise_id}",
        code="\n\n".join(answer) if isinstance(answer, (list, tuple)) else str(answer),
    )
