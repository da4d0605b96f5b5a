"""Plots of the report, for what people would rather see than read: PNG files under ``reports/``.

Per metric, the iterations with every value as a dot and the interval the
report gives (95% CI of the mean for a quality, interquartile range for a time
or a memory) as a bar; and quality against time (or memory), with the
iterations on the Pareto front filled and the front of those two axes drawn.

matplotlib draws through its Agg canvas on ``Figure`` objects: no pyplot, no
global figure state, no window, nothing shown. It is imported on first use, so
an installation without it still writes the Markdown report (:func:`draw_plots`
raises ``ImportError``, and the report says the plots were skipped).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iterbench.report.comparison import Cell, Comparison, MetricInfo
from pytest_iterbench.report.pareto import Axis, staircase
from pytest_iterbench.report.sections import PlotLink

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS_DIR = "plots"
DPI = 100
WIDTH = 7.0
#: Height per iteration in inches; figures grow with the run, up to MAX_HEIGHT.
ROW_HEIGHT = 0.32
MAX_HEIGHT = 40.0


@dataclass(frozen=True)
class PlotFile(PlotLink):
    """A plot written to ``path``; its link is relative to the report's folder."""

    path: Path = Path()


def file_stem(name: str) -> str:
    """A file-name-safe stem for an id; ids that had to change get a short hash to stay distinct.

    >>> file_stem("accuracy"), file_stem("a/b c")
    ('accuracy', 'a_b_c-0af99a60')
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe == name:
        return name
    return f"{safe[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def draw_plots(comparison: Comparison, reports_dir: Path) -> list[PlotFile]:
    """Draw the run's plots into ``reports_dir/plots/<run>/``; remove that folder's stale PNGs."""
    import matplotlib

    folder = reports_dir / PLOTS_DIR / file_stem(comparison.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[PlotFile] = []
    # Names are text, never TeX: a "$" in an iteration id must not start mathtext.
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9, "axes.titlesize": 10}):
        for metric in comparison.metrics:
            plotted = _metric_plot(comparison, metric, folder, reports_dir)
            files += [plotted] if plotted is not None else []
        tradeoff = _tradeoff_plot(comparison, folder, reports_dir)
        files += [tradeoff] if tradeoff is not None else []
    keep = {f.path for f in files}
    for stale in folder.glob("*.png"):
        if stale not in keep:
            stale.unlink()
    return files


def _figure(height: float, label_chars: int = 8) -> Figure:
    """A figure on an Agg canvas, its margins set from the longest tick label.

    Margins are computed, not left to constrained layout, which measures every
    text several times and doubles the drawing time.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = min(MAX_HEIGHT, height)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(figure)
    left = min(0.5, (0.35 + 0.065 * label_chars) / WIDTH)
    figure.subplots_adjust(left=left, right=0.97, bottom=0.5 / height, top=1 - 0.35 / height)
    return figure


def _save(
    figure: Figure, path: Path, reports_dir: Path, alt: str, metric_id: str | None
) -> PlotFile:
    figure.savefig(path, format="png", metadata={"Software": None})
    return PlotFile(path.relative_to(reports_dir).as_posix(), alt, metric_id, path)


def _jitter(count: int) -> list[float]:
    """Deterministic vertical offsets that spread a row's dots without hiding any."""
    return [((k % 7) - 3) * 0.05 for k in range(count)]


def _metric_plot(
    comparison: Comparison, metric: MetricInfo, folder: Path, reports_dir: Path
) -> PlotFile | None:
    rows = [
        (k, iteration, cell)
        for k, iteration in enumerate(comparison.iterations)
        if (cell := comparison.cells.get((iteration, metric.metric_id))) is not None
        and cell.summary is not None
    ]
    if not rows:
        return None
    longest = max(len(i) for i in comparison.iterations)
    figure = _figure(1.2 + ROW_HEIGHT * len(comparison.iterations), longest)
    axes = figure.add_subplot()
    dots_x: list[float] = []
    dots_y: list[float] = []
    for k, _, cell in rows:
        dots_x += cell.sample.values
        dots_y += [k + offset for offset in _jitter(len(cell.sample.values))]
    axes.scatter(dots_x, dots_y, s=10, alpha=0.45, color="C0", linewidths=0)
    best = comparison.best[metric.metric_id]
    for is_best in (False, True):
        _intervals(axes, [(k, c) for k, i, c in rows if (i in best) == is_best], is_best)
    axes.set_yticks(range(len(comparison.iterations)), labels=list(comparison.iterations))
    axes.set_ylim(len(comparison.iterations) - 0.5, -0.5)
    axes.set_xlabel(metric.label)
    axes.grid(axis="x", alpha=0.3)
    direction = (
        ""
        if metric.higher_is_better is None
        else f"; {'higher' if metric.higher_is_better else 'lower'} is better"
    )
    statistic = "mean, 95% CI" if metric.kind == "quality" else "median, IQR"
    axes.set_title(f"{metric.metric_id}: {statistic} (red: best{direction})")
    path = folder / f"metric-{file_stem(metric.metric_id)}.png"
    return _save(figure, path, reports_dir, f"{metric.metric_id} per iteration", metric.metric_id)


def _intervals(axes: Any, rows: list[tuple[int, Cell]], is_best: bool) -> None:
    """Centres as diamonds with their interval as a bar; red for the best, orange otherwise."""
    summaries = [(k, c.summary) for k, c in rows if c.summary is not None]
    if not summaries:
        return
    axes.errorbar(
        [s.centre for _, s in summaries],
        [k for k, _ in summaries],
        xerr=[[s.centre - s.low for _, s in summaries], [s.high - s.centre for _, s in summaries]],
        fmt="D",
        linestyle="none",
        color="C3" if is_best else "C1",
        capsize=3,
        markersize=5,
    )


def _tradeoff_axes(comparison: Comparison) -> tuple[Axis, Axis] | None:
    """(cost, quality): the first time (else memory) axis and the first quality axis of the front."""
    front = comparison.pareto
    if front is None:
        return None
    kinds = {a.metric_id: comparison.metric(a.metric_id).kind for a in front.axes}
    quality = [a for a in front.axes if kinds[a.metric_id] == "quality"]
    cost = [a for a in front.axes if kinds[a.metric_id] == "time"] or [
        a for a in front.axes if kinds[a.metric_id] == "memory"
    ]
    return (cost[0], quality[0]) if quality and cost else None


def _tradeoff_plot(comparison: Comparison, folder: Path, reports_dir: Path) -> PlotFile | None:
    chosen = _tradeoff_axes(comparison)
    if chosen is None or comparison.pareto is None:
        return None
    cost, quality = chosen
    points: dict[str, tuple[float, float]] = {}
    for iteration in comparison.iterations:
        x = comparison.summary(iteration, cost.metric_id)
        y = comparison.summary(iteration, quality.metric_id)
        if x is not None and y is not None:
            points[iteration] = (x.centre, y.centre)
    if len(points) < 2:
        return None
    figure = _figure(4.5, 6)
    axes = figure.add_subplot()
    members = set(comparison.pareto.members)
    _scatter_points(axes, points, members)
    corners = staircase(list(points.values()), (cost, quality))
    axes.plot([c[0] for c in corners], [c[1] for c in corners], "--", color="C2", linewidth=1)
    x_info = comparison.metric(cost.metric_id)
    y_info = comparison.metric(quality.metric_id)
    axes.set_xlabel(f"{x_info.label}, {cost.arrow} is better")
    axes.set_ylabel(f"{y_info.label}, {quality.arrow} is better")
    axes.set_title("Filled: on the Pareto front (all axes); dashed: the front of these two")
    axes.grid(alpha=0.3)
    axes.margins(0.12)
    alt = f"{quality.metric_id} against {cost.metric_id}, Pareto front marked"
    return _save(figure, folder / "tradeoff.png", reports_dir, alt, None)


def _scatter_points(axes: Any, points: dict[str, tuple[float, float]], members: set[str]) -> None:
    """Each iteration as a labelled point, filled when on the front; labels stay inside the plot."""
    xs = [x for x, _ in points.values()]
    middle = (min(xs) + max(xs)) / 2
    for iteration, (x, y) in points.items():
        on_front = iteration in members
        axes.scatter(
            [x],
            [y],
            s=50,
            color="C2" if on_front else "white",
            edgecolors="C2" if on_front else "C7",
            zorder=3,
        )
        right_half = x > middle
        axes.annotate(
            iteration,
            (x, y),
            textcoords="offset points",
            xytext=(-6 if right_half else 6, 4),
            ha="right" if right_half else "left",
            fontsize=8,
        )
