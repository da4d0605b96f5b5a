"""The reviewer and the bounded solve → validate → review loop, with fakes."""

from __future__ import annotations

import pytest

pytest.importorskip("anthropic")

from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.errors import ModelAnswerInvalid, ReviewLoopExhausted
from pytest_iterbench.llm.fake_api import FakeMessagesApi, tool_answer
from pytest_iterbench.llm.reviewer import ClaudeReviewer, Failure, Review, review_loop
from pytest_iterbench.llm.secrets import ApiKey
from pytest_iterbench.llm.traces import TraceStore

FIXED_CODE = "def run(parameters):\n    return {'y_true': [1], 'y_pred': [1]}\n"
REVIEW = {
    "diagnosis": "run() returns predictions under the key 'pred'; the metrics read 'y_pred'.",
    "fix": {
        "kind": "code",
        "target": "v3-random-forest",
        "code": FIXED_CODE,
        "explanation": "rename",
    },
}
FAILURE = Failure(
    kind="exception",
    message="KeyError: 'y_pred'",
    traceback="Traceback (most recent call last):\n  File \"main.py\", line 9\nKeyError: 'y_pred'",
    target="v3-random-forest",
    code="def run(parameters):\n    return {'pred': [1]}\n",
    results=({"metric_id": "accuracy", "value": None, "status": "error"},),
)


@pytest.fixture(autouse=True)
def _no_sdk_environment(monkeypatch):
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


def reviewer(tmp_path, replies):
    api = FakeMessagesApi(replies)
    client = ClaudeClient(
        ApiKey("sk-ant-test-reviewer-0000000"),
        ClientConfig(max_retries=0),
        traces=TraceStore(tmp_path),
        http_client=api.http_client(),
    )
    return ClaudeReviewer(client), api


def test_a_review_has_a_diagnosis_and_a_fix(tmp_path):
    reviewer_, api = reviewer(tmp_path, [tool_answer("submit_review", REVIEW)])
    review = reviewer_.review(FAILURE, iteration_id="v3-random-forest", attempt=1)
    assert review == Review(REVIEW["diagnosis"], "code", "rename", "v3-random-forest", FIXED_CODE)
    prompt = api.requests[0]["messages"][0]["content"]
    assert "KeyError: 'y_pred'" in prompt
    assert "return {'pred': [1]}" in prompt
    assert '"status": "error"' in prompt


def test_a_review_without_code_for_a_code_fix_is_repaired(tmp_path):
    incomplete = {"diagnosis": "d", "fix": {"kind": "code", "explanation": "e"}}
    replies = [
        tool_answer("submit_review", incomplete),
        tool_answer("submit_review", REVIEW, call_id="t2"),
    ]
    reviewer_, api = reviewer(tmp_path, replies)
    assert reviewer_.review(FAILURE).code == FIXED_CODE
    assert "fix.code: a fix of kind 'code' needs the code" in str(api.requests[1]["messages"][-1])


def test_a_review_that_never_validates_fails_clearly(tmp_path):
    reviewer_, _ = reviewer(tmp_path, [tool_answer("submit_review", {"diagnosis": ""})] * 2)
    with pytest.raises(
        ModelAnswerInvalid, match="reviewer answer: expected a valid submit_review call"
    ):
        reviewer_.review(FAILURE)


def test_the_loop_converges_in_two_attempts_and_traces_every_call(tmp_path):
    reviewer_, _ = reviewer(tmp_path, [tool_answer("submit_review", REVIEW)])
    solved: list[tuple[int, Review | None]] = []
    seen = []

    def solve(attempt, review):
        solved.append((attempt, review))
        return review.code if review else FAILURE.code

    def validate(code):
        return None if "y_pred" in code else FAILURE

    def review(attempt, failure):
        return reviewer_.review(failure, iteration_id="v3-random-forest", attempt=attempt)

    result = review_loop(solve, validate, review, max_attempts=3, on_attempt=seen.append)
    assert result.solution == FIXED_CODE
    assert [(a.number, a.failure is None, a.review is None) for a in result.attempts] == [
        (1, False, False),
        (2, True, True),
    ]
    assert seen == list(result.attempts)
    assert solved[1][1].diagnosis == REVIEW["diagnosis"]
    [trace] = list(TraceStore(tmp_path).records())
    assert (trace.role, trace.iteration_id, trace.attempt) == ("reviewer", "v3-random-forest", 1)


def test_the_loop_gives_up_after_k_attempts():
    reviews = []

    def review(attempt, failure):
        reviews.append(attempt)
        return Review("still broken", "none")

    with pytest.raises(ReviewLoopExhausted) as caught:
        review_loop(lambda n, r: f"solution {n}", lambda s: FAILURE, review, max_attempts=3)
    error = caught.value
    assert [a.solution for a in error.attempts] == ["solution 1", "solution 2", "solution 3"]
    assert reviews == [1, 2]  # no review after the last attempt: nothing would use it
    assert error.last_failure is FAILURE
    assert "no valid solution after 3 attempt(s); last failure: exception: KeyError" in str(error)


def test_the_loop_needs_at_least_one_attempt():
    with pytest.raises(ValueError, match="at least 1"):
        review_loop(lambda n, r: 0, lambda s: None, lambda n, f: Review("", "none"), max_attempts=0)
