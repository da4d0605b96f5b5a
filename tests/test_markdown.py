"""Every Markdown file the project ships passes the user's lint rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_lint import assert_markdown_clean

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(
    p.relative_to(REPO)
    for p in REPO.rglob("*.md")
    if not {".venv", ".tox", "reports", ".pytest_cache", "node_modules"}
    & set(p.relative_to(REPO).parts)
)


def test_the_readme_is_among_the_shipped_files():
    assert Path("README.md") in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=str)
def test_shipped_markdown_is_clean(path):
    assert_markdown_clean((REPO / path).read_text(encoding="utf-8"))


def test_the_readme_starts_with_the_two_commands():
    head = (REPO / "README.md").read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_a_report_with_hostile_names_and_reasons_is_clean(workspace, pytester):
    reason = "can't pickle 'run.<locals>.fit' | see https://example.com/*data*_x_ `code`"
    workspace.iteration("ok").iteration(
        "bad", f"def run(parameters):\n    raise ValueError({reason!r})\n"
    )
    workspace.builtin_metrics().metric("odd.unit_x", unit="a|b `c`").run().write()
    pytester.makepyfile(
        test_odd="""
        import pytest

        @pytest.mark.metric("odd.unit_x")
        def test_odd(iteration, record_result):
            record_result(1)
        """
    )
    pytester.runpytest("--iterbench", "run-001", "runs.json", "test_odd.py").assert_outcomes(
        passed=3, failed=2, errors=1
    )
    report = workspace.report()
    assert_markdown_clean(report)
    assert (
        "ValueError: can't pickle 'run.\\<locals\\>.fit' \\| see https\\://example.com/\\*data\\*\\_x\\_ \\`code\\`"
        in report
    )
