"""Every LLM path with recognisable fake keys: no key in any file written, print, log or error.

The keys reach the fake API (checked, so the test is not vacuous); then every
file under the workspace, everything printed, every log record (DEBUG and up,
the SDK's and httpx2's included) and every error (its text, its repr, its
traceback, its pickle) is searched for them.
"""

from __future__ import annotations

import copy
import logging
import pickle
import traceback

import pytest

pytest.importorskip("anthropic")

from pytest_iterbench import cli
from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.errors import ClaudeApiError, ReviewLoopExhausted
from pytest_iterbench.llm.fake_api import (
    FakeMessagesApi,
    digits_plan_answer,
    error_status,
    text_answer,
    timeout,
    tool_answer,
)
from pytest_iterbench.llm.reviewer import ClaudeReviewer, Failure, review_loop
from pytest_iterbench.llm.secrets import resolve_api_key
from pytest_iterbench.llm.traces import TraceStore

ENV_KEY = "sk-ant-api03-CANARY-ENV-7f3a9c2e5b1d4a6f8e0c"
ARGV_KEY = "sk-ant-api03-CANARY-ARGV-1b2c3d4e5f6a7b8c9d0e"
DOTENV_KEY = "sk-ant-api03-CANARY-DOTENV-9e8d7c6b5a4f3e2d1c0b"
KEYS = (ENV_KEY, ARGV_KEY, DOTENV_KEY)
DIGITS = "Classify the 8x8 handwritten digits of scikit-learn."
REVIEW = {"diagnosis": "wrong key", "fix": {"kind": "code", "code": "ok = 1", "explanation": "e"}}


@pytest.fixture
def ws(tmp_path, monkeypatch):
    (tmp_path / "iterations" / "v1_baseline").mkdir(parents=True)
    (tmp_path / "iterations" / "v1_baseline" / "main.py").write_text("def run(p):\n    return {}\n")
    (tmp_path / "iterations.json").write_text(
        '{"iterations": [{"id": "v1-baseline", "source_path": "iterations/v1_baseline/", "entry_point": "main.py"}]}'
    )
    metrics = ", ".join(
        f'{{"id": "{m}", "higher_is_better": true, "unit": "", "class": "pytest_iterbench.metrics.{c}"}}'
        for m, c in [
            ("accuracy", "AccuracyMetric"),
            ("f1_macro", "F1MacroMetric"),
            ("exec_time", "ExecutionTimeMetric"),
            ("peak_memory", "PeakMemoryMetric"),
        ]
    )
    (tmp_path / "metrics.json").write_text(f'{{"metrics": [{metrics}]}}')
    (tmp_path / "runs.json").write_text('{"runs": []}')
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS", "CLAUDE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV_KEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Evidence:
    """Everything the key could have leaked into."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.sent: set[str] = set()

    def api(self, replies):
        fake = FakeMessagesApi(replies)
        self.fakes = [*getattr(self, "fakes", []), fake]
        return fake

    def error(self, exc: BaseException) -> None:
        assert exc.__cause__ is None  # nothing chained can hold the SDK's request headers
        assert exc.__context__ is None
        self.texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        self.texts.append(pickle.dumps(exc).decode("latin-1"))

    def plan(self, ws, replies, *extra):
        fake = self.api(replies)
        argv = ["plan", DIGITS, "--dir", str(ws), "--max-retries", "2", *extra]
        return cli.main(argv, http_client=fake.http_client())


def plan_paths(evidence, ws):
    answer = digits_plan_answer()
    broken = copy.deepcopy(answer)
    broken["runs"][0]["metric_ids"].append("nope")
    assert evidence.plan(ws, [tool_answer("submit_plan", answer)], "-o", "a.json") == 0
    repaired = [
        tool_answer("submit_plan", broken),
        tool_answer("submit_plan", answer, call_id="t2"),
    ]
    assert evidence.plan(ws, repaired, "-o", "b.json", "--apply") == 0
    assert evidence.plan(ws, [text_answer("prose"), text_answer("more prose")]) == 4
    assert (
        evidence.plan(
            ws,
            [error_status(429, "rate_limit_error"), tool_answer("submit_plan", answer)],
            "-o",
            "c.json",
        )
        == 0
    )
    assert evidence.plan(ws, [error_status(529, "overloaded_error")] * 3) == 1
    assert evidence.plan(ws, [error_status(500, "api_error")] * 3) == 1
    assert evidence.plan(ws, [timeout()], "--max-retries", "0") == 1
    assert (
        evidence.plan(
            ws, [tool_answer("submit_plan", answer)], "--claude-api-key", ARGV_KEY, "-o", "d.json"
        )
        == 0
    )
    assert cli.main(["costs", str(ws)]) == 0


def dotenv_path(evidence, ws, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    (ws / ".env").write_text(f"ANTHROPIC_API_KEY={DOTENV_KEY}\n")
    assert (
        evidence.plan(ws, [tool_answer("submit_plan", digits_plan_answer())], "-o", "e.json") == 0
    )
    (ws / ".env").unlink()  # the user's own input, not something the layer wrote


def reviewer_paths(evidence, ws):
    fake = evidence.api(
        [tool_answer("submit_review", REVIEW)] * 3 + [error_status(529, "overloaded_error")]
    )
    client = ClaudeClient(
        resolve_api_key(environ={"ANTHROPIC_API_KEY": ENV_KEY}),
        ClientConfig(max_retries=0),
        traces=TraceStore(ws),
        http_client=fake.http_client(),
    )
    reviewer = ClaudeReviewer(client)
    failure = Failure("exception", "KeyError", target="v1-baseline")

    def review(n, f):
        return reviewer.review(f, iteration_id="v1-baseline", attempt=n)

    review_loop(lambda n, r: r, lambda s: None if s else failure, review, max_attempts=2)
    with pytest.raises(ReviewLoopExhausted) as exhausted:
        review_loop(lambda n, r: None, lambda s: failure, review, max_attempts=3)
    evidence.error(exhausted.value)
    with pytest.raises(ClaudeApiError) as failed:
        reviewer.review(failure)
    evidence.error(failed.value)


def test_no_key_anywhere(ws, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    plan_paths(evidence, ws)
    dotenv_path(evidence, ws, monkeypatch)
    reviewer_paths(evidence, ws)

    sent = {h.get("authorization", "") for fake in evidence.fakes for h in fake.headers}
    assert {f"Bearer {key}" for key in KEYS} <= sent  # the keys did reach the API
    printed = capsys.readouterr()
    logs = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    files = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
    assert any(p.suffix == ".jsonl" for p in files)  # traces were written
    assert any(p.name == "plan.json" or p.suffix == ".json" for p in files)
    assert "shell history" in printed.err
    for key in KEYS:
        assert key not in printed.out
        assert key not in printed.err
        assert key not in logs
        assert not [p for p, data in files.items() if key.encode() in data]
        assert not [text for text in evidence.texts if key in text]
