"""The review step: each iteration whose items failed in the benchmark goes to the reviewer.

The reviewer sees the failed records' reason (its traceback and log tail, as
the harness recorded them) and the iteration's code; a fix of kind ``code``
replaces the entry point and only that iteration is run again, in a session
of its own (``--iterbench-only``), at most ``rounds`` times. Every call is
traced by the LLM layer; every attempt is listed in the step's outputs. The
report judges each iteration by its latest records, so a fixed iteration's
new records stand in for its failed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.llm.errors import LlmError, ReviewLoopExhausted
from pytest_iterbench.llm.review_types import Failure, Review
from pytest_iterbench.llm.reviewer import review_loop
from pytest_iterbench.orchestrator.benchmark import PytestRun, failed_items, session_records
from pytest_iterbench.orchestrator.implement import Reviewer
from pytest_iterbench.orchestrator.steps import Outcome, StepContext
from pytest_iterbench.results.records import new_session_id
from pytest_iterbench.workspace.loader import Workspace


def failure_of(iteration_id: str, failed: list[dict[str, Any]], code: str) -> Failure | None:
    """The iteration's failure, from its failed records (None when it has none)."""
    mine = [item for item in failed if item["iteration_id"] == iteration_id]
    if not mine:
        return None
    first = mine[0]
    metrics = ", ".join(f"{item['metric_id']} ({item['status']})" for item in mine)
    return Failure(
        "test", f"items failed: {metrics}", first.get("reason") or "", iteration_id, code
    )


class RunReview:
    """Reviews and re-runs the failed iterations of one run's benchmark session."""

    def __init__(self, root: Path, run_id: str, reviewer: Reviewer | None, rounds: int) -> None:
        self.root, self.run_id, self.reviewer, self.rounds = root, run_id, reviewer, rounds

    def action(self, failed: list[dict[str, Any]]) -> Callable[[StepContext], Outcome]:
        def act(context: StepContext) -> Outcome:
            iterations = sorted({item["iteration_id"] for item in failed})
            if not iterations:
                return Outcome("skipped", outputs={"reason": "nothing failed"})
            if self.reviewer is None:
                return Outcome("skipped", outputs={"reason": "no model", "unreviewed": iterations})
            results = {it: self._review(it, failed) for it in iterations}
            sessions = [s for r in results.values() for s in r["sessions"]]
            outputs = {"iterations": results, "sessions": sessions}
            unfixed = [i for i, r in results.items() if not r["fixed"]]
            if unfixed:
                return Outcome(
                    "failed", self._files(iterations), outputs, error=f"still failing: {unfixed}"
                )
            return Outcome("done", self._files(iterations), outputs)

        return act

    def _files(self, iterations: list[str]) -> list[str]:
        workspace = Workspace.load(self.root)
        return ["results.json"] + [
            (workspace.iterations[i].directory(self.root) / workspace.iterations[i].entry_point)
            .relative_to(self.root).as_posix()
            for i in iterations
        ]  # fmt: skip

    def _review(self, iteration_id: str, failed: list[dict[str, Any]]) -> dict[str, Any]:
        workspace = Workspace.load(self.root)
        iteration = workspace.iterations[iteration_id]
        path = iteration.directory(self.root) / iteration.entry_point
        sessions: list[str] = []
        reviewer = self.reviewer
        assert reviewer is not None

        def solve(number: int, review: Review | None) -> list[dict[str, Any]]:
            if review is None:
                return failed  # attempt 1: the benchmark's own records
            if review.fix_kind == "code" and review.code:
                write_text_atomically(
                    path, review.code if review.code.endswith("\n") else review.code + "\n"
                )
            session = new_session_id()
            sessions.append(session)
            PytestRun(self.root, self.run_id, session, (iteration_id,), "review").run()
            return failed_items(session_records(self.root, self.run_id, session))

        def validate(items: list[dict[str, Any]]) -> Failure | None:
            return failure_of(iteration_id, items, path.read_text(encoding="utf-8"))

        def review(number: int, failure: Failure) -> Review:
            return reviewer.review(failure, iteration_id=iteration_id, attempt=number)

        try:
            result = review_loop(solve, validate, review, max_attempts=self.rounds + 1)
        except (ReviewLoopExhausted, LlmError) as exc:
            return {"fixed": False, "sessions": sessions, "error": str(exc)[:500]}
        return {"fixed": True, "sessions": sessions, "attempts": len(result.attempts)}
