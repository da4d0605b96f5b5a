"""``--solver claude-api`` over a fake Claude transport: solve, validate through nbmake, review, solve again.

No network: ``FakeMessagesApi`` answers each request in turn. The scripted
model first answers an exercise wrong, the nbmake validation fails, the
reviewer sees the failing check and its traceback, the revised answer passes.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from notebook_helpers import png

pytest.importorskip("anthropic")

from pytest_iterbench import cli
from pytest_iterbench.llm.client import ClaudeClient
from pytest_iterbench.llm.config import ClientConfig
from pytest_iterbench.llm.fake_api import FakeMessagesApi, tool_answer
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.secrets import ApiKey
from pytest_iterbench.llm.solver import ClaudeExerciseSolver, ExerciseTask
from pytest_iterbench.llm.traces import TraceStore

KEY = "sk-ant-api03-CANARY-NOTEBOOK-5e4d3c2b1a0f9e8d"
WRONG = "return [i for i in range(n)]"
RIGHT = "return [i * i for i in range(n)]"
ANSWER = "Rayleigh scattering: shorter wavelengths scatter more."
ATTACHED = png(12, 8)
BESIDE = png(9, 9, (10, 200, 10))


def solution(*regions, name="a"):
    return {"solutions": [{"name": name, "regions": list(regions)}]}


def usage(n):
    return TokenUsage(input_tokens=1_000 * n, output_tokens=100 * n)


def assignment():
    instruction = new_markdown_cell(
        "## Exercise 1\nWrite `squares(n)`, the squares below n, as the figure shows: "
        "![figure](attachment:figure.png)"
    )
    instruction["attachments"] = {"figure.png": {"image/png": base64.b64encode(ATTACHED).decode()}}
    cells = [
        new_markdown_cell("# Homework"),
        instruction,
        new_code_cell('def squares(n):\n    """The squares of 0..n-1."""\n    pass'),
        new_code_cell("assert squares(3) == [0, 1, 4], squares(3)"),
        new_markdown_cell("## Question 2\nWhy is the sky blue?"),
        new_markdown_cell("YOUR ANSWER HERE"),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                              "display_name": "Python 3",
                                                              "language": "python"}})  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("claude")
    (root / "input" / "images").mkdir(parents=True)
    nbformat.write(assignment(), str(root / "input" / "hw.ipynb"))
    (root / "input" / "images" / "beside.png").write_bytes(BESIDE)
    (root / "input" / "instructions.md").write_text("Use list comprehensions where you can.\n")
    review = {
        "diagnosis": "squares returns the numbers, not their squares",
        "fix": {"kind": "code", "code": RIGHT, "explanation": "square each number"},
    }
    api = FakeMessagesApi(
        [
            tool_answer("submit_solution", solution(WRONG), usage(1)),
            tool_answer("submit_solution", solution(ANSWER), usage(2)),
            tool_answer("submit_review", review, usage(3)),
            tool_answer("submit_solution", solution(RIGHT, name="b"), usage(4)),
        ]
    )
    env = pytest.MonkeyPatch()
    env.setenv("ANTHROPIC_API_KEY", KEY)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            ["notebook", "run", str(root / "input"), "--solver", "claude-api",
             "--max-attempts", "3", "--cell-timeout", "60"],
            http_client=api.http_client(),
        )  # fmt: skip
        costs_code = cli.main(["costs", "--dir", str(root), "--by", "role"])
    env.undo()
    printed = out.getvalue() + err.getvalue()
    (root / "printed.txt").write_text(printed)  # searched for the key with the other files
    return root, api, code, costs_code, printed


def test_the_reviewer_loop_turns_a_wrong_answer_into_a_passing_notebook(run):
    root, api, code, _, printed = run
    assert code == 0, printed
    completed = nbformat.read(str(root / "output" / "hw_completed.ipynb"), as_version=4)
    assert RIGHT in completed.cells[2].source
    assert "attempt   1/3 exercise 'squares': check failed in cell 3: AssertionError" in printed
    assert "attempt   2/3 " in printed
    assert (root / "done" / "hw.ipynb").is_file()
    reviewer_request = json.dumps(api.requests[2])
    assert "assert squares(3) == [0, 1, 4]" in reviewer_request
    assert "AssertionError" in reviewer_request
    assert WRONG in reviewer_request
    revise_request = json.dumps(api.requests[3])
    assert "squares returns the numbers, not their squares" in revise_request


def test_the_completed_notebook_passes_pytest_nbmake_from_output(run):
    root, *_ = run
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-p", "no:iterbench", str(root / "output" / "hw_completed.ipynb")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]


def test_every_attempt_is_traced_with_its_role_and_number(run):
    root, *_ = run
    records = list(TraceStore(root).records())
    assert [(r.role, r.attempt) for r in records] == [
        ("solver", 1),
        ("solver", 1),
        ("reviewer", 1),
        ("solver", 2),
    ]
    assert records[0].iteration_id == "hw:squares"


def test_image_blocks_and_instructions_reach_the_request(run):
    _, api, *_ = run
    content = api.requests[0]["messages"][0]["content"]
    images = [b["source"]["data"] for b in content if b["type"] == "image"]
    assert base64.b64encode(ATTACHED).decode() in images
    assert base64.b64encode(BESIDE).decode() in images
    text = " ".join(b.get("text", "") for b in content if b["type"] == "text")
    assert "Use list comprehensions where you can." in text
    assert "squares(3) == [0, 1, 4]" in text


def test_a_markdown_answer_lands_in_its_markdown_cell(run):
    root, *_ = run
    completed = nbformat.read(str(root / "output" / "hw_completed.ipynb"), as_version=4)
    assert completed.cells[5].cell_type == "markdown"
    assert completed.cells[5].source == ANSWER


def test_the_key_never_appears_in_a_file_or_the_output(run):
    root, api, _, _, printed = run
    sent = " ".join(f"{h.get('x-api-key', '')} {h.get('authorization', '')}" for h in api.headers)
    assert KEY in sent, "the key never reached the API: the test would prove nothing"
    assert KEY not in printed
    for path in root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_costs_add_up_to_the_traced_tokens(run):
    root, _, _, costs_code, printed = run
    records = list(TraceStore(root).records())
    assert sum(r.usage.input_tokens for r in records) == 10_000
    assert sum(r.usage.output_tokens for r in records) == 1_000
    total = sum(r.cost_usd for r in records)
    assert total > 0
    assert f"LLM cost ${total:.4f} in 4 call(s)" in printed
    assert (
        f"  cost      ${total:.4f} for hw.ipynb: 4 call(s), 10,000 input and 1,000 output"
        in printed
    )
    assert costs_code == 0
    assert f"| **total** | 4 | 0 | 10,000 | 0 | 0 | 1,000 | {total:.4f} |" in printed


def test_an_answer_that_does_not_parse_is_sent_back_before_anything_is_written(tmp_path):
    api = FakeMessagesApi(
        [
            tool_answer("submit_solution", solution("return [i * i for i in range(n)")),
            tool_answer("submit_solution", solution(RIGHT)),
        ]
    )
    client = ClaudeClient(
        ApiKey("sk-test"), ClientConfig(max_retries=0), traces=TraceStore(tmp_path),
        http_client=api.http_client(),
    )  # fmt: skip
    task = ExerciseTask("squares", "Write squares(n).", ("code",), "def squares(n):\n    pass")
    [answer] = ClaudeExerciseSolver(client).solve(task)
    assert answer.regions == (RIGHT,)
    repair = json.dumps(api.requests[1]["messages"][-1])
    assert "not valid Python" in repair


def test_alternatives_from_the_model_are_benchmarked_through_the_harness(tmp_path, monkeypatch):
    nb = assignment()
    nb.cells = nb.cells[:4]  # the code exercise only
    (tmp_path / "input").mkdir()
    nbformat.write(nb, str(tmp_path / "input" / "hw.ipynb"))
    three = {
        "solutions": [
            {"name": "loop", "regions": [WRONG]},
            {"name": "comprehension", "regions": [RIGHT]},
            {"name": "again", "regions": [RIGHT]},  # the same code: one alternative
        ]
    }
    api = FakeMessagesApi([tool_answer("submit_solution", three, usage(1))])
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(
            ["notebook", "run", str(tmp_path / "input"), "--solver", "claude-api",
             "--alternatives", "3", "--metric", "checks_passed", "--cell-timeout", "60"],
            http_client=api.http_client(),
        )  # fmt: skip
    printed = out.getvalue()
    assert code == 0, printed
    [request] = api.requests  # one call, asking for three different solutions
    schema = request["tools"][0]["input_schema"]["properties"]["solutions"]
    assert schema["maxItems"] == 3
    assert "Give up to 3 genuinely different solutions" in json.dumps(request)
    bench = next((tmp_path / ".iterbench" / "notebooks").iterdir()) / "bench"
    records = json.loads((bench / "results.json").read_text())["results"]
    values = {r["iteration_id"]: r["value"] for r in records if r["metric_id"] == "checks_passed"}
    assert values == {"squares.loop": 0.0, "squares.comprehension": 1.0}
    completed = nbformat.read(str(tmp_path / "output" / "hw_completed.ipynb"), as_version=4)
    assert RIGHT in completed.cells[2].source
    assert "squares.comprehension" in (tmp_path / "output" / "hw_comparison_report.md").read_text()
    so_far = r"\(\d+\.\d s, \$\d+\.\d{4} so far\)"
    for line in (
        rf"    exercise  1/1 squares: 2 solution\(s\) \(loop, comprehension\) {so_far}",
        rf"    benchmark 2 alternative\(s\) of 1 exercise\(s\) through the harness by checks_passed {so_far}",
        rf"    kept      squares: comprehension \(loop: checks_passed 0; comprehension: checks_passed 1\) {so_far}",
        rf"  attempt   1/3 validating hw.ipynb through nbmake {so_far}",
        rf"  attempt   1/3 passed {so_far}",
    ):
        assert re.search(f"^{line}$", printed, re.MULTILINE), (line, printed)
