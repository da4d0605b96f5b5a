"""The comparison report: samples, statistics, history, lineage, Pareto front, comparison,
the gate, plots, and the document rendered as Markdown and HTML.

``write_reports`` and ``render_report`` are the entry points.
"""

from __future__ import annotations

from pytest_iterbench.report.writer import render_report, write_reports

__all__ = ["render_report", "write_reports"]
