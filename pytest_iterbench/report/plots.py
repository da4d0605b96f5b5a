"""Plots of the report, for what people would rather see than read: PNG files under ``reports/``.

Per metric *family* (the qualities, the times, the memories; at most
:data:`PANELS_PER_FIGURE` metrics a figure), one panel per metric with the
iterations' values as dots and the interval the report gives (95% CI of the
mean for a quality, interquartile range for a time or a memory) as a bar; and
quality against time (or memory), with the iterations on the Pareto front
filled and the front of those two axes drawn.

Plots are content-addressed: each figure is first described as plain data (a
:class:`PlotSpec`), and its file is named after the hash of that data. A
figure whose data did not change since the last report is reused as it is:
matplotlib is not even imported. Files of figures no longer shown are removed.

matplotlib draws through its Agg canvas on ``Figure`` objects: no pyplot, no
global figure state, no window, nothing shown. It is imported only to draw, so
an installation without it still writes the Markdown report (:func:`draw_plots`
raises ``ImportError``, and the report says the plots were skipped).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iterbench.report.comparison import Comparison, MetricInfo
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
#: Most metric panels in one figure; a larger family is split over several figures.
PANELS_PER_FIGURE = 4
#: Bumped whenever the drawing code changes, so that old pictures are redrawn.
STYLE_VERSION = 2
FAMILIES = (("quality", "qualities"), ("time", "times"), ("memory", "memories"))


@dataclass(frozen=True)
class PlotFile(PlotLink):
    """A plot written to ``path``; its link is relative to the report's folder."""

    path: Path = Path()


@dataclass(frozen=True)
class PlotSpec:
    """Everything one figure shows, as plain data: its hash names the file."""

    stem: str
    alt: str
    metric_ids: tuple[str, ...]
    content: dict[str, Any]

    def digest(self) -> str:
        text = json.dumps([STYLE_VERSION, self.content], sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def file_name(self) -> str:
        return f"{self.stem}-{self.digest()}.png"


def file_stem(name: str) -> str:
    """A file-name-safe stem for an id; ids that had to change get a short hash to stay distinct.

    >>> file_stem("accuracy"), file_stem("a/b c")
    ('accuracy', 'a_b_c-0af99a60')
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe == name:
        return name
    return f"{safe[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def plot_specs(comparison: Comparison) -> list[PlotSpec]:
    """The figures the report of ``comparison`` shows: metric families, then the trade-off."""
    specs = list(_family_specs(comparison))
    tradeoff = _tradeoff_spec(comparison)
    return specs + ([tradeoff] if tradeoff is not None else [])


def draw_plots(comparison: Comparison, reports_dir: Path) -> list[PlotFile]:
    """Write the run's figures into ``reports_dir/plots/<run>/``, drawing only the changed ones.

    A figure whose file (named by the hash of its data) exists is reused; PNG
    files of the folder that no figure names any more are removed.
    """
    folder = reports_dir / PLOTS_DIR / file_stem(comparison.run_id)
    specs = plot_specs(comparison)
    missing = [spec for spec in specs if not (folder / spec.file_name()).is_file()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        _draw_all(missing, folder)
    files = [
        PlotFile(
            (folder / spec.file_name()).relative_to(reports_dir).as_posix(),
            spec.alt,
            spec.metric_ids,
            folder / spec.file_name(),
        )
        for spec in specs
    ]
    keep = {f.path for f in files}
    for stale in folder.glob("*.png") if folder.is_dir() else ():
        if stale not in keep:
            stale.unlink(missing_ok=True)
    return files


def _draw_all(specs: Sequence[PlotSpec], folder: Path) -> None:
    import matplotlib

    # Names are text, never TeX: a "$" in an iteration id must not start mathtext.
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9, "axes.titlesize": 10}):
        for spec in specs:
            figure = _draw_tradeoff(spec) if not spec.metric_ids else _draw_family(spec)
            path = folder / spec.file_name()
            partial = path.with_name(f".{path.name}.partial")
            figure.savefig(partial, format="png", metadata={"Software": None})
            partial.replace(path)  # a reader never sees half a picture


# -- metric families --------------------------------------------------------------------------


def _chunks(metrics: Sequence[MetricInfo]) -> Iterator[Sequence[MetricInfo]]:
    for start in range(0, len(metrics), PANELS_PER_FIGURE):
        yield metrics[start : start + PANELS_PER_FIGURE]


def _family_specs(comparison: Comparison) -> Iterator[PlotSpec]:
    for kind, plural in FAMILIES:
        members = [m for m in comparison.metrics if m.kind == kind and _panel(comparison, m)]
        chunks = list(_chunks(members))
        for number, chunk in enumerate(chunks, start=1):
            stem = plural if len(chunks) == 1 else f"{plural}-{number}"
            ids = tuple(m.metric_id for m in chunk)
            content = {
                "iterations": list(comparison.iterations),
                "panels": [_panel(comparison, m) for m in chunk],
            }
            yield PlotSpec(stem, f"{', '.join(ids)} per iteration", ids, content)


def _panel(comparison: Comparison, metric: MetricInfo) -> dict[str, Any] | None:
    """One metric's panel as data: per iteration row, its values, centre and interval."""
    best = comparison.best[metric.metric_id]
    rows = []
    for k, iteration in enumerate(comparison.iterations):
        cell = comparison.cells.get((iteration, metric.metric_id))
        if cell is None or cell.summary is None:
            continue
        s = cell.summary
        rows.append([k, list(cell.sample.values), s.centre, s.low, s.high, iteration in best])
    if not rows:
        return None
    direction = (
        ""
        if metric.higher_is_better is None
        else f"; {'higher' if metric.higher_is_better else 'lower'} is better"
    )
    statistic = "mean, 95% CI" if metric.kind == "quality" else "median, IQR"
    title = f"{metric.metric_id}: {statistic} (red: best{direction})"
    return {"label": metric.label, "title": title, "rows": rows}


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
    figure.subplots_adjust(
        left=left, right=0.97, bottom=0.5 / height, top=1 - 0.35 / height, hspace=0.6
    )
    return figure


def _jitter(count: int) -> list[float]:
    """Deterministic vertical offsets that spread a row's dots without hiding any."""
    return [((k % 7) - 3) * 0.05 for k in range(count)]


def _draw_family(spec: PlotSpec) -> Figure:
    iterations: list[str] = spec.content["iterations"]
    panels: list[dict[str, Any]] = spec.content["panels"]
    per_panel = 1.2 + ROW_HEIGHT * len(iterations)
    figure = _figure(per_panel * len(panels), max(len(i) for i in iterations))
    for position, panel in enumerate(panels, start=1):
        axes = figure.add_subplot(len(panels), 1, position)
        _draw_panel(axes, panel, iterations)
    return figure


def _draw_panel(axes: Any, panel: dict[str, Any], iterations: list[str]) -> None:
    dots_x: list[float] = []
    dots_y: list[float] = []
    for k, values, *_ in panel["rows"]:
        dots_x += values
        dots_y += [k + offset for offset in _jitter(len(values))]
    axes.scatter(dots_x, dots_y, s=10, alpha=0.45, color="C0", linewidths=0)
    for is_best in (False, True):
        _intervals(axes, [row for row in panel["rows"] if row[5] == is_best], is_best)
    axes.set_yticks(range(len(iterations)), labels=iterations)
    axes.set_ylim(len(iterations) - 0.5, -0.5)
    axes.set_xlabel(panel["label"])
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(panel["title"])


def _intervals(axes: Any, rows: list[list[Any]], is_best: bool) -> None:
    """Centres as diamonds with their interval as a bar; red for the best, orange otherwise."""
    if not rows:
        return
    axes.errorbar(
        [centre for _, _, centre, _, _, _ in rows],
        [k for k, *_ in rows],
        xerr=[[c - low for _, _, c, low, _, _ in rows], [high - c for _, _, c, _, high, _ in rows]],
        fmt="D",
        linestyle="none",
        color="C3" if is_best else "C1",
        capsize=3,
        markersize=5,
    )


# -- the trade-off ----------------------------------------------------------------------------


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


def _tradeoff_spec(comparison: Comparison) -> PlotSpec | None:
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
    corners = staircase(list(points.values()), (cost, quality))
    content = {
        "points": points,
        "members": sorted(set(comparison.pareto.members) & set(points)),
        "corners": corners,
        "x_label": f"{comparison.metric(cost.metric_id).label}, {cost.arrow} is better",
        "y_label": f"{comparison.metric(quality.metric_id).label}, {quality.arrow} is better",
    }
    alt = f"{quality.metric_id} against {cost.metric_id}, Pareto front marked"
    return PlotSpec("tradeoff", alt, (), content)


def _draw_tradeoff(spec: PlotSpec) -> Figure:
    content = spec.content
    figure = _figure(4.5, 6)
    axes = figure.add_subplot()
    points = {name: (float(x), float(y)) for name, (x, y) in content["points"].items()}
    _scatter_points(axes, points, set(content["members"]))
    corners = content["corners"]
    axes.plot([c[0] for c in corners], [c[1] for c in corners], "--", color="C2", linewidth=1)
    axes.set_xlabel(content["x_label"])
    axes.set_ylabel(content["y_label"])
    axes.set_title("Filled: on the Pareto front (all axes); dashed: the front of these two")
    axes.grid(alpha=0.3)
    axes.margins(0.12)
    return figure


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
