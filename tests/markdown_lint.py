"""The user's Markdown rule, as an assertion: pymarkdownlnt's default rules, line length aside."""

from __future__ import annotations

import re

from pymarkdown.api import PyMarkdownApi

_LINTER = PyMarkdownApi().disable_rule_by_identifier("md013")
_FENCE = re.compile(r"^(```+|~~~+)(.*)$")


def assert_markdown_clean(text: str) -> None:
    """Fail with every pymarkdownlnt finding, and on a fenced block that names no language."""
    result = _LINTER.scan_string(text)
    findings = [
        f"line {f.line_number}, column {f.column_number}: {f.rule_id} {f.rule_name} {f.extra_error_information or ''}"
        for f in result.scan_failures
    ]
    assert not result.pragma_errors, result.pragma_errors
    assert not findings, "\n".join([*findings, "", text])
    opened = False
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line.strip())
        if match is None:
            continue
        if not opened:
            assert match.group(2).strip(), (
                f"line {number}: a fenced code block must name its language"
            )
        opened = not opened
