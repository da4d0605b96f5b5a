"""The comparison report, regenerated from ``results.json`` alone.

For one run: a table of iterations × metrics (the latest record of each pair),
then the items that did not pass, with their reasons. The Markdown passes
``pymarkdownlnt`` with its default rules (line length aside).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pytest_iterbench.records import utc_now

REPORT_PATH = Path("reports") / "comparison_report.md"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def escape_cell(text: str) -> str:
    r"""Make ``text`` one line of literal Markdown text, safe in a table cell or a list item.

    Backslash-escapes what Markdown would read as syntax (pipes, backticks,
    emphasis, HTML, links) and defuses bare URLs, so any name or reason passes
    the linter and renders as written.

    >>> print(escape_cell("a|b\nc <x> see https://h.io"))
    a\|b c \<x\> see https\://h.io
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return re.sub(r"\bwww\.", r"www\\.", text.replace("://", "\\://"))


def code_span(text: str) -> str:
    r"""``text`` as inline code, or as escaped text where a code span cannot hold it.

    >>> print(code_span("v1-baseline"), code_span("odd`id"))
    `v1-baseline` odd\`id
    """
    if text and "`" not in text and text == " ".join(text.split()):
        return f"`{text}`"
    return escape_cell(text)


def format_value(value: float | None) -> str:
    """Four significant digits, without scientific notation for everyday magnitudes."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        digits = max(0, 3 - math.floor(math.log10(abs(value)))) if value else 0
        return f"{value:.{digits}f}"
    return f"{value:.3e}"


def _instant(record: dict[str, Any]) -> dt.datetime:
    """When a record was taken, as an aware datetime (offsets honoured; unparsable: earliest)."""
    try:
        moment = dt.datetime.fromisoformat(str(record.get("executed_at", "")))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def latest_by_pair(
    records: Iterable[dict[str, Any]], run_id: str
) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest record of each (iteration, metric) of ``run_id`` (file order breaks ties)."""
    latest: dict[tuple[str, str], tuple[dt.datetime, dict[str, Any]]] = {}
    for record in records:
        if record.get("run_id") != run_id:
            continue
        key = (record["iteration_id"], record["metric_id"])
        moment = _instant(record)
        if key not in latest or moment >= latest[key][0]:
            latest[key] = (moment, record)
    return {key: record for key, (_, record) in latest.items()}


def _ordered(values: Iterable[str], preferred: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(values))
    return [v for v in preferred if v in seen] + [v for v in seen if v not in preferred]


def _cell(record: dict[str, Any] | None) -> str:
    if record is None:
        return "-"
    status = record.get("status", "passed")
    value = format_value(record.get("value")) if record.get("value") is not None else ""
    if status == "passed":
        return value or "n/a"
    return f"{value} ({status})" if value else status


def render_report(
    records: Iterable[dict[str, Any]],
    run_id: str,
    iteration_order: Sequence[str] = (),
    metric_order: Sequence[str] = (),
) -> str:
    """The Markdown comparison of one run.

    >>> md = render_report([{"run_id": "r", "iteration_id": "v1", "metric_id": "acc",
    ...     "value": 0.9, "unit": "%", "status": "passed", "executed_at": "t"}], "r")
    >>> "| v1 | 0.9000 |" in md
    True
    """
    latest = latest_by_pair(records, run_id)
    iterations = _ordered((i for i, _ in latest), iteration_order)
    metrics = _ordered((m for _, m in latest), metric_order)
    units = {m: r.get("unit", "") for (_, m), r in latest.items()}
    lines = [f"# Comparison report: {escape_cell(run_id)}", ""]
    if not latest:
        return "\n".join([*lines, f"No results for run `{run_id}` in results.json yet.", ""])
    sessions = sorted({r.get("session_id") or "?" for r in latest.values()})
    lines += [
        f"Generated {utc_now()} from `results.json`: {len(iterations)} iterations × {len(metrics)} metrics, "
        f"latest record of each pair, from {len(sessions)} session(s).",
        "",
        "## Results",
        "",
    ]
    header = ["Iteration", *(escape_cell(f"{m} ({units[m]})" if units[m] else m) for m in metrics)]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| --- |" + " ---: |" * len(metrics))
    for iteration in iterations:
        cells = [
            escape_cell(iteration),
            *(escape_cell(_cell(latest.get((iteration, m)))) for m in metrics),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _problems(latest, iterations, metrics)
    return "\n".join(lines) + "\n"


def _problems(
    latest: dict[tuple[str, str], dict[str, Any]], iterations: list[str], metrics: list[str]
) -> list[str]:
    rows = [
        f"- {code_span(i)} × {code_span(m)}: {record.get('status')}: {escape_cell(record.get('reason') or '') or 'no reason recorded'}"
        for i in iterations
        for m in metrics
        if (record := latest.get((i, m))) is not None and record.get("status", "passed") != "passed"
    ]
    return ["", "## Items that did not pass", "", *rows] if rows else []


def write_report(workspace_root: Path, text: str) -> Path:
    """Write the report to ``reports/comparison_report.md`` in the workspace."""
    path = workspace_root / REPORT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
