"""The sections of the comparison report, as document blocks built from a :class:`Comparison`.

Each ``_section`` function answers one question of the reader: what was
measured (results), by how much iterations differ and whether the difference
is real (changes), what trades against what (Pareto front), whether a
configuration drifts over sessions (history), where each iteration comes
from (lineage), what went wrong (items that did not pass), and where the
numbers were taken (environment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pytest_iterbench.report.comparison import Cell, Comparison, Delta, MetricInfo
from pytest_iterbench.report.document import (
    Align,
    Block,
    BulletList,
    Diagram,
    Document,
    Heading,
    Image,
    Inline,
    ListItem,
    Paragraph,
    Span,
    Table,
    bold,
    code,
    format_percent,
    format_signed,
    format_value,
    joined,
    line,
    text,
)
from pytest_iterbench.report.history import Trend, sparkline
from pytest_iterbench.report.lineage import LineageNode
from pytest_iterbench.report.pareto import ParetoFront
from pytest_iterbench.report.samples import Sample
from pytest_iterbench.report.statistics import ALPHA, MIN_N


@dataclass(frozen=True)
class PlotLink:
    """A picture to show: its path relative to the report, its alt text, and the metrics it shows.

    A figure of metric panels names its metrics; the trade-off plot names none.
    """

    relative: str
    alt: str
    metric_ids: tuple[str, ...]


def build_document(
    comparison: Comparison,
    *,
    generated: str,
    plots: Sequence[PlotLink] = (),
    plot_note: str | None = None,
) -> Document:
    """The report of ``comparison`` as a :class:`Document`, ready for any form."""
    document = Document(f"Comparison report: {comparison.run_id}")
    if not comparison.iterations:
        document.add(
            Paragraph(line("No results for run ", code(comparison.run_id), " in results.json yet."))
        )
        return document
    document.add(_introduction(comparison, generated))
    document.add(*_results(comparison))
    document.add(*_plots(plots, plot_note))
    document.add(*_changes(comparison))
    document.add(*_trade_offs(comparison, [p for p in plots if not p.metric_ids]))
    document.add(*_history(comparison))
    document.add(*_lineage(comparison))
    document.add(*_problems(comparison))
    document.add(*_environment(comparison))
    return document


def _align(left: int, right: int = 0, after: int = 0) -> tuple[Align, ...]:
    """Column alignments: ``left`` text columns, ``right`` numeric ones, ``after`` text ones."""
    text_column: Align = "left"
    number_column: Align = "right"
    return (text_column,) * left + (number_column,) * right + (text_column,) * after


def _h2(title: str) -> Heading:
    return Heading(2, line(title))


#: Most ids listed in one sentence or cell before "and N more".
LIST_LIMIT = 5


def _ids(values: Sequence[str], limit: int = 1000) -> Inline:
    shown = joined(line(code(v)) for v in values[:limit])
    rest = len(values) - limit
    return (*shown, text(f" and {rest} more")) if rest > 0 else shown


def _introduction(comparison: Comparison, generated: str) -> Paragraph:
    sessions = comparison.focus_sessions
    if len(sessions) == 1:
        judged: Inline = line("its latest session, ", code(next(iter(sessions))))
    else:
        listed = list(sessions.items())[-LIST_LIMIT:]
        earlier = len(sessions) - len(listed)
        judged = line(
            f"its latest session, one of {len(sessions)}: ",
            *joined(line(code(s), f" ({n} pairs)") for s, n in listed),
            f" and {earlier} earlier" if earlier else "",
        )
    baseline = comparison.baseline or ""
    how = "tagged baseline" if comparison.baseline_tagged else "the first iteration"
    return Paragraph(
        line(
            f"Generated {generated} from ",
            code("results.json"),
            f" ({comparison.records} records of this run): {len(comparison.iterations)} iterations"
            f" × {len(comparison.metrics)} metrics, each (iteration, metric) judged by ",
            *judged,
            ". Baseline: ",
            code(baseline),
            f" ({how}).",
        )
    )


# -- results ---------------------------------------------------------------------------------


def _problem_note(sample: Sample) -> str:
    """The statuses of a sample's records that did not pass: ``failed``, or ``1 error, 2 timeout``."""
    statuses = sample.statuses
    statuses.pop("passed", None)
    if sample.count == 1:
        return next(iter(statuses), "")
    return ", ".join(f"{n} {status}" for status, n in statuses.items())


def result_cell(cell: Cell | None, is_best: bool) -> Inline:
    """A Results cell: centre (bold when best), spread, n, and the statuses that were not passed.

    ``92 ± 1.963 (n=5)`` for a quality, ``1.200 (IQR 1.100 to 1.300; n=5)`` for a time
    or a memory, ``75 (failed)`` for one value whose item failed, ``error`` for none.
    """
    if cell is None:
        return line("-")
    note = _problem_note(cell.sample)
    summary = cell.summary
    if summary is None:
        return line(note or "n/a")
    spread = ""
    notes = []
    if summary.n > 1:
        if summary.kind == "quality":
            spread = f" ± {format_value(summary.spread)}"
        else:
            notes.append(f"IQR {format_value(summary.low)} to {format_value(summary.high)}")
        notes.append(f"n={summary.n}")
    notes += [note] if note else []
    centre = format_value(summary.centre)
    tail = spread + (f" ({'; '.join(notes)})" if notes else "")
    return line(bold(centre) if is_best else text(centre), tail)


def _results(comparison: Comparison) -> list[Block]:
    metrics = comparison.metrics
    rows = tuple(
        (
            line(iteration),
            *(
                result_cell(
                    comparison.cells.get((iteration, m.metric_id)),
                    iteration in comparison.best[m.metric_id],
                )
                for m in metrics
            ),
        )
        for iteration in comparison.iterations
    )
    header = (line("Iteration"), *(line(m.label) for m in metrics))
    align = _align(1, len(metrics))
    legend = [
        "The best value of each metric is in bold, judged by its direction in metrics.json"
        " (none where the direction is unknown or only one iteration has a value)."
    ]
    if comparison.has_repeats:
        legend.append(
            "With repeats, a quality metric shows its mean ± the half-width of the 95% confidence"
            " interval (Student's t), a time or a memory its median and interquartile range;"
            " n counts the values."
        )
    return [_h2("Results"), Table(header, align, rows), Paragraph(line(" ".join(legend)))]


def _plots(plots: Sequence[PlotLink], note: str | None) -> list[Block]:
    metric_plots = [p for p in plots if p.metric_ids]
    if not metric_plots and note is None:
        return []
    blocks: list[Block] = [_h2("Plots")]
    if note is not None:
        blocks.append(Paragraph(line(note)))
    if metric_plots:
        blocks.append(
            Paragraph(line("Each value as a dot; the bar spans the interval shown in Results."))
        )
    blocks += [Image(p.alt, p.relative) for p in metric_plots]
    return blocks


# -- changes ---------------------------------------------------------------------------------


def delta_text(delta: Delta | None) -> str:
    """``+0.89 (+0.9 %), better``; the significance verdict follows when there is one."""
    if delta is None:
        return "-"
    parts = format_signed(delta.absolute)
    if delta.relative is not None:
        parts += f" ({format_percent(delta.relative)})"
    if delta.direction is not None:
        parts += f", {delta.direction}"
    if delta.significance is not None:
        parts += f"; {delta.significance.label()}"
    return parts


def _changes(comparison: Comparison) -> list[Block]:
    blocks: list[Block] = [_h2("Changes"), Heading(3, line("Against the parent"))]
    blocks += _against_parent(comparison)
    if comparison.baseline is not None and len(comparison.iterations) > 1:
        blocks += _against_baseline(comparison, comparison.baseline)
    return blocks


def _against_parent(comparison: Comparison) -> list[Block]:
    children = [i for i in comparison.iterations if comparison.info[i].parent is not None]
    if not children:
        return [Paragraph(line("No iteration of this run names a parent."))]
    metrics = comparison.metrics
    rows = []
    for iteration in children:
        node = comparison.lineage.nodes[iteration]
        parent = node.parent or ""
        parent_cell = line(code(parent), "" if parent in comparison.info else " (not in this run)")
        changes = "; ".join(node.changes) if node.changes else "none"
        deltas = (
            line(delta_text(comparison.delta(iteration, m.metric_id, parent))) for m in metrics
        )
        rows.append((line(code(iteration)), parent_cell, line(changes), *deltas))
    header = (
        line("Iteration"),
        line("Parent"),
        line("Changed parameters"),
        *(line(m.label) for m in metrics),
    )
    align = _align(3, len(metrics))
    return [
        Paragraph(
            line(
                "Each cell: the iteration's centre (as in Results) minus its parent's, in the"
                " metric's unit, then in percent of the parent's; better or worse by the metric's direction."
            )
        ),
        Table(header, align, tuple(rows)),
    ]


def _against_baseline(comparison: Comparison, baseline: str) -> list[Block]:
    metrics = comparison.metrics
    rows = tuple(
        (
            line(code(iteration)),
            *(
                line(delta_text(comparison.against_baseline(iteration, m.metric_id)))
                for m in metrics
            ),
        )
        for iteration in comparison.iterations
        if iteration != baseline
    )
    header = (line("Iteration"), *(line(m.label) for m in metrics))
    align = _align(1, len(metrics))
    explanation = line(
        "Each cell: the iteration's centre minus the baseline's (",
        code(baseline),
        f"), as above. Significance: a two-sided Mann–Whitney U test at {ALPHA:.0%} on the two samples,"
        f" run only when each has at least {MIN_N} values; below that the cell says n is too"
        " small, and no difference is claimed.",
    )
    return [
        Heading(3, line("Against the baseline")),
        Paragraph(explanation),
        Table(header, align, rows),
    ]


# -- trade-offs ------------------------------------------------------------------------------


def _front_cell(front: ParetoFront, iteration: str) -> Inline:
    placed = front.on_front(iteration)
    if placed is None:
        return line("not placed (a value is missing)")
    return line(bold("yes")) if placed else line("no")


def _trade_offs(comparison: Comparison, plots: Sequence[PlotLink]) -> list[Block]:
    front = comparison.pareto
    if front is None:
        return []
    axes = [comparison.metric(a.metric_id) for a in front.axes]
    described = joined(line(code(a.metric_id), f" ({a.arrow} is better)") for a in front.axes)
    intro = line(
        "Pareto front over ",
        *described,
        ": an iteration is on the front when no other iteration is at least as good on every"
        " axis and better on one. On the front: ",
        *_ids(front.members),
        ".",
    )
    rows = tuple(
        (
            line(code(i)),
            _front_cell(front, i),
            *(line(_centre(comparison, i, m)) for m in axes),
            _ids(front.dominated_by.get(i, ())) or line("-"),
        )
        for i in comparison.iterations
    )
    header = (
        line("Iteration"),
        line("On the front"),
        *(line(m.label) for m in axes),
        line("Beaten by"),
    )
    align = _align(2, len(axes), 1)
    blocks: list[Block] = [_h2("Trade-offs"), Paragraph(intro), Table(header, align, rows)]
    return blocks + [Image(p.alt, p.relative) for p in plots]


def _centre(comparison: Comparison, iteration: str, metric: MetricInfo) -> str:
    summary = comparison.summary(iteration, metric.metric_id)
    return format_value(summary.centre) if summary is not None else "-"


# -- history ---------------------------------------------------------------------------------


def _trend_row(iteration: str, metric: MetricInfo, trend: Trend) -> tuple[Inline, ...]:
    centres = [p.centre for p in trend.points]
    shown = " → ".join(format_value(c) for c in centres)
    if trend.sessions > len(trend.points):
        shown = "… → " + shown  # only the latest sessions are shown
    change = trend.change()
    return (
        line(code(iteration)),
        line(metric.label),
        line(str(trend.sessions)),
        line(sparkline(centres)),
        line(shown),
        line(format_signed(change) if change is not None else "-"),
    )


def _history(comparison: Comparison) -> list[Block]:
    rows = []
    others = 0
    for iteration in comparison.iterations:
        for metric in comparison.metrics:
            trend = comparison.trends.get((iteration, metric.metric_id))
            if trend is None:
                continue
            others += trend.other_configurations
            if trend.has_history:
                rows.append(_trend_row(iteration, metric, trend))
    blocks: list[Block] = [_h2("History")]
    rule = (
        "Earlier sessions count only when the iteration's configuration (a hash of its code,"
        " entry point and parameters) is the one measured now."
    )
    if others:
        rule += f" Samples of another or an unknown configuration left out: {others}."
    if not rows:
        return [
            *blocks,
            Paragraph(line("No earlier session measured these configurations. ", rule)),
        ]
    header = tuple(
        line(h)
        for h in ("Iteration", "Metric", "Sessions", "Trend", "Oldest → latest", "Latest − oldest")
    )
    align: tuple[Align, ...] = ("left", "left", "right", "left", "left", "right")
    return [*blocks, Paragraph(line(rule)), Table(header, align, tuple(rows))]


# -- lineage ---------------------------------------------------------------------------------


def _tree_item(node: LineageNode) -> ListItem:
    content: list[Span | str] = [code(node.iteration_id)]
    if node.is_baseline:
        content.append(" (baseline)")
    if not node.in_run:
        content.append(" (not in this run)")
    if node.changes:
        content.append(": " + "; ".join(node.changes))
    return ListItem(line(*content), tuple(_tree_item(child) for child in node.children))


def _lineage(comparison: Comparison) -> list[Block]:
    lineage = comparison.lineage
    fallback = BulletList(tuple(_tree_item(root) for root in lineage.roots))
    return [
        _h2("Lineage"),
        Paragraph(
            line(
                "Which iteration grew from which; an edge names the parameters that changed,"
                " a dashed node is an ancestor outside this run."
            )
        ),
        Diagram(lineage.mermaid(), fallback),
    ]


# -- problems and environment ----------------------------------------------------------------


def _problems(comparison: Comparison) -> list[Block]:
    items = []
    for iteration in comparison.iterations:
        for metric in comparison.metrics:
            cell = comparison.cells.get((iteration, metric.metric_id))
            if cell is None:
                continue
            counts: dict[tuple[str, str | None], int] = {}
            for problem in cell.sample.problems:
                counts[problem] = counts.get(problem, 0) + 1
            for (status, reason), n in counts.items():
                suffix = f" ({n} of {cell.sample.count} records)" if cell.sample.count > 1 else ""
                why = " ".join((reason or "").split()) or "no reason recorded"
                items.append(
                    ListItem(
                        line(
                            code(iteration),
                            " × ",
                            code(metric.metric_id),
                            f": {status}: {why}{suffix}",
                        )
                    )
                )
    if not items:
        return []
    return [_h2("Items that did not pass"), BulletList(tuple(items))]


def _environment_rows(
    environment: dict[str, Any], sessions: Sequence[str], commits: Sequence[str]
) -> list[Inline]:
    packages = environment.get("packages") or {}
    cpu = str(environment.get("cpu") or "unknown")
    if environment.get("cpu_count"):
        cpu += f" ({environment['cpu_count']} logical CPUs)"
    return [
        _ids(sessions, LIST_LIMIT),
        line(str(environment.get("host") or environment.get("hostname") or "unknown")),
        line(str(environment.get("platform") or "unknown")),
        line(str(environment.get("python") or "unknown")),
        line(cpu),
        line(str(environment.get("gpu") or "none")),
        line(_measurement(environment)),
        _ids(commits) or line("unknown"),
        line(
            ", ".join(f"{name} {version}" for name, version in packages.items() if version) or "-"
        ),
    ]


ENVIRONMENT_SETTINGS = (
    "Sessions",
    "Host",
    "Platform",
    "Python",
    "CPU",
    "GPU",
    "Measurement",
    "Git commit",
    "Packages",
)


def _measurement(environment: dict[str, Any]) -> str:
    """How the session measured: xdist workers, thread cap, exclusivity of timings."""
    if "xdist_workers" not in environment:
        return "unknown"
    workers = environment["xdist_workers"]
    cap = environment.get("thread_cap")
    exclusive = environment.get("exclusive_timing")
    return (
        f"{workers} xdist worker{'s' if workers != 1 else ''}, "
        f"{'threads capped at ' + str(cap) if cap else 'threads not capped'}, "
        f"timings {'exclusive' if exclusive else 'not exclusive'}"
        + (" (per host)" if environment.get("lock_scope") == "host" else "")
    )


#: Most environments side by side; the latest are shown.
ENVIRONMENT_LIMIT = 4


def _environment(comparison: Comparison) -> list[Block]:
    groups = comparison.environments[-ENVIRONMENT_LIMIT:]
    columns = [_environment_rows(g.environment, g.sessions, g.git_commits) for g in groups]
    if len(groups) == 1:
        header: tuple[Inline, ...] = (line("Setting"), line("Value"))
        intro = "Where the judged samples were measured."
    else:
        header = (line("Setting"), *(line(f"Environment {k}") for k in range(1, len(groups) + 1)))
        count = len(comparison.environments)
        intro = f"The judged samples were measured in {count} different environments: compare across them with care."
        if count > len(groups):
            intro += f" The latest {len(groups)} are shown."
    rows = tuple(
        (line(setting), *(column[k] for column in columns))
        for k, setting in enumerate(ENVIRONMENT_SETTINGS)
    )
    align = _align(len(header))
    return [_h2("Environment"), Paragraph(line(intro)), Table(header, align, rows)]
