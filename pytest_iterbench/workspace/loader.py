"""A workspace: the folder holding ``iterations.json``, ``metrics.json`` and ``runs.json``.

Loading validates everything before anything runs: JSON syntax, then each
file's schema, then the cross-references between files (duplicate ids, unknown
ids, parent cycles, missing sources, metric classes that do not import). All
problems are reported at once, each naming the file and the JSON path; a
failed load changes nothing on disk.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition
from pytest_iterbench.workspace.schemas import SchemaName, validate

ITERATIONS_FILE = "iterations.json"
METRICS_FILE = "metrics.json"
RUNS_FILE = "runs.json"
RESULTS_FILE = "results.json"


def read_json(path: Path, display: str) -> tuple[Any, list[Problem]]:
    """Parse one JSON file; a syntax error becomes a problem with its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(display, "", f"file not found (expected at {path})")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot be read: {exc}")]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [
            Problem(display, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        ]


def load_document(path: Path, name: SchemaName) -> Any:
    """One definition file, parsed and schema-validated; WorkspaceError otherwise."""
    document, problems = _load_file(path, name)
    if problems:
        raise WorkspaceError(problems)
    return document


def _load_file(path: Path, name: SchemaName) -> tuple[Any, list[Problem]]:
    document, problems = read_json(path, path.name)
    if problems:
        return None, problems
    problems = validate(name, document, path.name)
    return (None if problems else document), problems


@contextmanager
def importable_from(directory: Path) -> Iterator[None]:
    """Make modules in ``directory`` importable for the duration of the block."""
    entry = str(directory)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def import_object(dotted: str) -> Any:
    """Import ``package.module.Name``; raise ImportError with the reason."""
    module_name, _, attribute = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from exc


def _known(ids: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(ids)) if ids else "(none)"


@dataclass(frozen=True)
class Workspace:
    """The validated contents of a workspace folder.

    >>> ws = Workspace.load("examples/digits")  # doctest: +SKIP
    >>> ws.run("run-001").iteration_ids  # doctest: +SKIP
    ('v1-baseline', 'v2-mlp')
    """

    root: Path
    iterations: dict[str, Iteration]
    metrics: dict[str, MetricDefinition]
    runs: dict[str, RunDefinition]
    metric_classes: dict[str, type[Any]]

    @property
    def results_path(self) -> Path:
        return self.root / RESULTS_FILE

    @property
    def state_dir(self) -> Path:
        """``.iterbench/``: journals, locks, per-session scratch; never needed for a report."""
        return self.root / ".iterbench"

    def run(self, run_id: str) -> RunDefinition:
        """The run named ``run_id``, or a WorkspaceError listing the known runs."""
        try:
            return self.runs[run_id]
        except KeyError:
            known = _known(list(self.runs))
            raise WorkspaceError(
                [Problem(RUNS_FILE, "runs", f"unknown run {run_id!r}; known: {known}")]
            ) from None

    @classmethod
    def load(cls, root: str | Path) -> Workspace:
        """Load and validate the three definition files of the workspace at ``root``."""
        root = Path(root).resolve()
        documents: dict[SchemaName, Any] = {}
        problems: list[Problem] = []
        for name, file in (
            ("iterations", ITERATIONS_FILE),
            ("metrics", METRICS_FILE),
            ("runs", RUNS_FILE),
        ):
            document, file_problems = _load_file(root / file, name)  # type: ignore[arg-type]
            documents[name] = document  # type: ignore[index]
            problems += file_problems
        if problems:
            raise WorkspaceError(problems)
        checker = _CrossReferences(
            root, documents["iterations"], documents["metrics"], documents["runs"]
        )
        problems = checker.check()
        if problems:
            raise WorkspaceError(problems)
        return cls(
            root=root,
            iterations={it.id: it for it in checker.iterations},
            metrics={m.id: m for m in checker.metrics},
            runs={r.id: r for r in checker.runs},
            metric_classes=checker.metric_classes,
        )


class _CrossReferences:
    """The checks between entries and files that a schema cannot express."""

    def __init__(self, root: Path, iterations: Any, metrics: Any, runs: Any) -> None:
        self.root = root
        self.iterations = [Iteration.from_json(d) for d in iterations["iterations"]]
        self.metrics = [MetricDefinition.from_json(d) for d in metrics["metrics"]]
        self.runs = [RunDefinition.from_json(d) for d in runs["runs"]]
        self.metric_classes: dict[str, type[Any]] = {}
        self.problems: list[Problem] = []

    def check(self) -> list[Problem]:
        checks: list[Callable[[], None]] = [
            self._duplicates,
            self._parents,
            self._sources,
            self._metric_classes,
            self._run_references,
        ]
        for check in checks:
            check()
        return self.problems

    def _add(self, file: str, location: str, message: str) -> None:
        self.problems.append(Problem(file, location, message))

    def _duplicates(self) -> None:
        groups: list[tuple[str, str, Sequence[Any]]] = [
            (ITERATIONS_FILE, "iterations", self.iterations),
            (METRICS_FILE, "metrics", self.metrics),
            (RUNS_FILE, "runs", self.runs),
        ]
        for file, key, entries in groups:
            first: dict[str, int] = {}
            for index, entry in enumerate(entries):
                if entry.id in first:
                    self._add(
                        file,
                        f"{key}[{index}].id",
                        f"duplicate id {entry.id!r} (first defined at {key}[{first[entry.id]}])",
                    )
                first.setdefault(entry.id, index)

    def _parents(self) -> None:
        by_id = {it.id: it for it in self.iterations}
        for index, iteration in enumerate(self.iterations):
            if iteration.parent is None:
                continue
            where = f"iterations[{index}].parent"
            if iteration.parent not in by_id:
                self._add(
                    ITERATIONS_FILE,
                    where,
                    f"unknown iteration {iteration.parent!r}; known: {_known(list(by_id))}",
                )
                continue
            chain = [iteration.id]
            current: str | None = iteration.parent
            while current is not None and current in by_id and current not in chain:
                chain.append(current)
                current = by_id[current].parent
            if current == iteration.id:
                self._add(
                    ITERATIONS_FILE, where, f"parent cycle: {' -> '.join([*chain, iteration.id])}"
                )

    def _sources(self) -> None:
        for index, iteration in enumerate(self.iterations):
            directory = iteration.directory(self.root)
            if not directory.is_dir():
                self._add(
                    ITERATIONS_FILE,
                    f"iterations[{index}].source_path",
                    f"folder not found: {iteration.source_path!r} (resolved to {directory})",
                )
                continue
            entry = directory / iteration.entry_point
            if not entry.is_file():
                self._add(
                    ITERATIONS_FILE,
                    f"iterations[{index}].entry_point",
                    f"file not found: {iteration.entry_point!r} in {iteration.source_path!r} (expected {entry})",
                )
            elif entry.suffix not in (".py", ".ipynb"):
                self._add(
                    ITERATIONS_FILE,
                    f"iterations[{index}].entry_point",
                    f"expected a .py or .ipynb file, found {iteration.entry_point!r}",
                )

    def _metric_classes(self) -> None:
        with importable_from(self.root):
            for index, metric in enumerate(self.metrics):
                if metric.class_path is None:
                    continue
                where = f"metrics[{index}].class"
                try:
                    cls = import_object(metric.class_path)
                except Exception as exc:  # any import-time failure is the user's to see
                    self._add(
                        METRICS_FILE,
                        where,
                        f"cannot import {metric.class_path!r}: {type(exc).__name__}: {exc}",
                    )
                    continue
                if not isinstance(cls, type) or not callable(getattr(cls, "measure", None)):
                    self._add(
                        METRICS_FILE,
                        where,
                        f"expected a class with a measure() method, found {cls!r}",
                    )
                    continue
                self.metric_classes[metric.id] = cls

    def _run_references(self) -> None:
        iteration_ids = [it.id for it in self.iterations]
        metric_ids = [m.id for m in self.metrics]
        for index, run in enumerate(self.runs):
            for position, iteration_id in enumerate(run.iteration_ids):
                if iteration_id not in iteration_ids:
                    self._add(
                        RUNS_FILE,
                        f"runs[{index}].iteration_ids[{position}]",
                        f"unknown iteration {iteration_id!r}; known: {_known(iteration_ids)}",
                    )
            if run.repeats is not None and run.seeds and len(run.seeds) != run.repeats:
                self._add(
                    RUNS_FILE,
                    f"runs[{index}].seeds",
                    f"expected {run.repeats} seeds (one per repeat), found {len(run.seeds)}",
                )
            self._item_names(index, run)
            for position, metric_id in enumerate(run.metric_ids):
                if metric_id not in metric_ids:
                    self._add(
                        RUNS_FILE,
                        f"runs[{index}].metric_ids[{position}]",
                        f"unknown metric {metric_id!r}; known: {_known(metric_ids)}",
                    )

    def _item_names(self, index: int, run: RunDefinition) -> None:
        """Item ids ``<iteration>-<metric>`` must not collide (``a`` × ``b-c`` and ``a-b`` × ``c``)."""
        seen: dict[str, tuple[str, str]] = {}
        for iteration_id in run.iteration_ids:
            for metric_id in run.metric_ids:
                name = f"{iteration_id}-{metric_id}"
                if name in seen and seen[name] != (iteration_id, metric_id):
                    other = seen[name]
                    self._add(
                        RUNS_FILE,
                        f"runs[{index}]",
                        f"iteration {other[0]!r} × metric {other[1]!r} and iteration {iteration_id!r} × metric {metric_id!r} would both be item {name!r}; rename one",
                    )
                seen.setdefault(name, (iteration_id, metric_id))
