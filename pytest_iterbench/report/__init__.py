"""The comparison report: samples, statistics, history, lineage, Pareto front, comparison,
the gate, plots, and the document rendered as Markdown and HTML.

``write_reports`` and ``render_report`` are the entry points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
    from pytest_iterbench.report.writer import render_report, write_reports

#: Each public name and the module that owns it, imported on first use.
_OWNERS = {
    "render_report": "pytest_iterbench.report.writer",
    "write_reports": "pytest_iterbench.report.writer",
}

__all__ = [
    "render_report",
    "write_reports",
]


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)
