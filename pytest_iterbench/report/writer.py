"""The comparison report of one run, regenerated from ``results.json`` alone.

It answers "which iteration is best on what, by how much, and is the
difference real?": a table of iterations × metrics (the best value of each
metric in bold), the changes against each iteration's parent and against the
run's baseline with a significance verdict, the Pareto front over quality,
time and memory, the trend over earlier sessions of the same configuration,
the lineage as a Mermaid graph, the items that did not pass with their
reasons, and the environment. :func:`write_reports` writes it as Markdown,
plots and self-contained HTML under ``reports/``.

>>> md = render_report([{"run_id": "r", "iteration_id": "v1", "metric_id": "acc",
...     "value": 0.9, "unit": "%", "status": "passed", "executed_at": "t"}], "r")
>>> "| v1 | 0.9000 |" in md
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pytest_iterbench.report.comparison import Comparison, compare_run
from pytest_iterbench.report.document import (
    Block,
    Document,
    code_span,
    escape_cell,
    format_value,
    to_markdown,
)
from pytest_iterbench.report.html import to_html
from pytest_iterbench.report.plots import PlotFile, draw_plots
from pytest_iterbench.report.samples import RunSamples
from pytest_iterbench.report.sections import build_document
from pytest_iterbench.results.records import utc_now

__all__ = [
    "HTML_PATH",
    "REPORT_PATH",
    "code_span",
    "escape_cell",
    "format_value",
    "render_report",
    "write_report",
    "write_reports",
]

REPORT_PATH = Path("reports") / "comparison_report.md"
HTML_PATH = Path("reports") / "comparison_report.html"
STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
PLOTS_ELSEWHERE = "The plots are in the workspace's reports folder, beside the HTML report."


def render_report(
    records: Iterable[dict[str, Any]],
    run_id: str,
    iteration_order: Sequence[str] = (),
    metric_order: Sequence[str] = (),
    *,
    session_id: str | None = None,
) -> str:
    """The Markdown comparison of one run, without plots (nothing is written to disk).

    Each (iteration, metric) is judged by its latest session up to ``session_id``
    (default: the latest of all); earlier sessions of the same configuration
    make its history.
    """
    comparison = compare_run(
        records,
        run_id,
        iteration_order=iteration_order,
        metric_order=metric_order,
        session_id=session_id,
    )
    return to_markdown(build_document(comparison, generated=utc_now()))


def write_report(workspace_root: Path, text: str) -> Path:
    """Write ``text`` to ``reports/comparison_report.md`` in the workspace."""
    path = workspace_root / REPORT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_reports(
    workspace_root: Path,
    records: Iterable[dict[str, Any]] | RunSamples,
    run_id: str,
    *,
    iteration_order: Sequence[str] = (),
    metric_order: Sequence[str] = (),
    session_id: str | None = None,
    html: bool = True,
    plots: bool = True,
    sections: Callable[[Comparison], Sequence[Block]] | None = None,
) -> list[Path]:
    """Write the report of ``run_id`` under ``reports/`` and return every path written.

    Writes ``reports/comparison_report.md``; with ``plots``, PNG files under
    ``reports/plots/<run>/``, one per metric family and the trade-off, named by
    the hash of what they show and drawn only when that changed (matplotlib, Agg
    backend; skipped with a note in the report when matplotlib is not installed); with ``html``,
    ``reports/comparison_report.html`` with the plots inlined. When the
    ``GITHUB_STEP_SUMMARY`` environment variable names a file, the Markdown
    (without the plots, which a job summary cannot load) is appended to it.
    ``session_id`` is the session that just ran: each (iteration, metric) is
    judged by its latest records up to that session. ``records`` may be samples
    read through the store's index (:func:`~pytest_iterbench.report.reading.load_run_samples`).
    ``sections`` gives extra blocks (other plugins' sections), appended after the built-in ones.

    >>> paths = write_reports(Path(tmp), records, "run-001", session_id=session)  # doctest: +SKIP
    >>> [p.name for p in paths]  # doctest: +SKIP
    ['qualities-3f0c….png', 'tradeoff-9a1e….png', 'comparison_report.md', 'comparison_report.html']
    """
    comparison = compare_run(
        records,
        run_id,
        iteration_order=iteration_order,
        metric_order=metric_order,
        session_id=session_id,
    )
    reports_dir = workspace_root / REPORT_PATH.parent
    written, plot_files, plot_note = _draw(comparison, reports_dir, plots)
    generated = utc_now()
    document = build_document(
        comparison, generated=generated, plots=plot_files, plot_note=plot_note
    )
    extra = list(sections(comparison)) if sections is not None else []
    document.add(*extra)
    written.append(write_report(workspace_root, to_markdown(document)))
    if html:
        written.append(_write_html(document, workspace_root / HTML_PATH))
    summary = os.environ.get(STEP_SUMMARY_VARIABLE)
    if summary:
        # A job summary cannot load the workspace's files: the same report, without pictures.
        note = plot_note or (PLOTS_ELSEWHERE if plot_files else None)
        summary_document = build_document(comparison, generated=generated, plot_note=note)
        summary_document.add(*extra)
        append_step_summary(Path(summary), to_markdown(summary_document))
    return written


def _draw(
    comparison: Comparison, reports_dir: Path, enabled: bool
) -> tuple[list[Path], list[PlotFile], str | None]:
    """Draw the plots, or say why there are none: (paths, plot files, note)."""
    if not enabled or not comparison.iterations:
        return [], [], None
    try:
        plot_files = draw_plots(comparison, reports_dir)
    except ImportError as exc:
        return [], [], f"Plots skipped: {exc.name or 'matplotlib'} is not installed."
    return [p.path for p in plot_files], plot_files, None


def _write_html(document: Document, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(document, path.parent), encoding="utf-8")
    return path


def append_step_summary(path: Path, markdown: str) -> None:
    """Append ``markdown`` to a GitHub Actions job summary file, a blank line after what it holds."""
    with path.open("a", encoding="utf-8") as handle:
        if handle.tell():
            handle.write("\n")
        handle.write(markdown)
