"""The one set of cross-reference rules, for a workspace and for a plan joining one.

A schema checks each file alone; these rules check what holds between entries
and files: duplicate ids, unknown references, parent cycles, missing sources,
metric classes that do not import or have no ``measure()``, seeds that do not
match the repeats, and item ids that collide. ``Workspace.load`` applies them
to the workspace's three files; the plan checker applies them to the
workspace's entries merged with the plan's, so that a plan it accepts is a
workspace ``Workspace.load`` accepts once applied.

Every entry carries where it is written (:class:`Located`): a problem names the
workspace file for an entry already there, and the plan file for a planned one.

Two differences are the plan's own and are named as such:

- a planned source folder may not exist yet, when applying the plan creates its
  stub (the caller passes those files as ``created``);
- :func:`plan_only_problems`: a planned source path must stay inside the
  workspace, because applying the plan creates folders there.

>>> found = check_references(Definitions.read(documents, WORKSPACE_FILES), root)  # doctest: +SKIP
>>> found.problems  # doctest: +SKIP
[]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Generic, Literal, TypeVar

from pytest_iterbench.errors import Problem
from pytest_iterbench.workspace.files import import_workspace_object, importable_from
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition
from pytest_iterbench.workspace.paths import ITERATIONS_FILE, METRICS_FILE, RUNS_FILE

Kind = Literal["iterations", "metrics", "runs"]
KINDS: tuple[Kind, ...] = ("iterations", "metrics", "runs")
WORKSPACE_FILES: Mapping[str, str] = {
    "iterations": ITERATIONS_FILE,
    "metrics": METRICS_FILE,
    "runs": RUNS_FILE,
}
ENTRY_SUFFIXES = (".py", ".ipynb")

E = TypeVar("E", Iteration, MetricDefinition, RunDefinition)


@dataclass(frozen=True)
class Located(Generic[E]):
    """One entry and where it is written: the file a problem names, and its JSON path there."""

    entry: E
    file: str
    path: str
    planned: bool = False

    def problem(self, key: str, message: str) -> Problem:
        """A problem at ``<path>.<key>`` (at the entry itself when ``key`` is empty)."""
        return Problem(self.file, f"{self.path}.{key}" if key else self.path, message)


@dataclass(frozen=True)
class Definitions:
    """Iterations, metrics and runs, each located; a plan's follow the workspace's (``+``)."""

    iterations: tuple[Located[Iteration], ...] = ()
    metrics: tuple[Located[MetricDefinition], ...] = ()
    runs: tuple[Located[RunDefinition], ...] = ()

    @classmethod
    def read(
        cls,
        documents: Mapping[str, Mapping[str, Any] | None],
        files: Mapping[str, str],
        *,
        planned: bool = False,
    ) -> Definitions:
        """Entries of schema-valid documents: ``documents[kind][kind]`` lists, written in ``files[kind]``.

        A workspace passes one document per file; a plan passes its one
        document for every kind.
        """

        def located(kind: Kind, parse: Any) -> tuple[Any, ...]:
            entries = (documents.get(kind) or {}).get(kind, [])
            return tuple(
                Located(parse(data), files[kind], f"{kind}[{index}]", planned)
                for index, data in enumerate(entries)
            )

        return cls(
            iterations=located("iterations", Iteration.from_json),
            metrics=located("metrics", MetricDefinition.from_json),
            runs=located("runs", RunDefinition.from_json),
        )

    @classmethod
    def planned(cls, plan: Mapping[str, Any], file: str) -> Definitions:
        """A plan's entries: its one document holds every kind, written in ``file``."""
        return cls.read(dict.fromkeys(KINDS, plan), dict.fromkeys(KINDS, file), planned=True)

    def __add__(self, other: Definitions) -> Definitions:
        return Definitions(
            self.iterations + other.iterations,
            self.metrics + other.metrics,
            self.runs + other.runs,
        )


@dataclass
class CheckedReferences:
    """What the rules found: the problems, and the definitions by id (first definition wins)."""

    problems: list[Problem] = field(default_factory=list)
    iterations: dict[str, Iteration] = field(default_factory=dict)
    metrics: dict[str, MetricDefinition] = field(default_factory=dict)
    runs: dict[str, RunDefinition] = field(default_factory=dict)
    metric_classes: dict[str, type[Any]] = field(default_factory=dict)


def check_references(
    definitions: Definitions, root: Path, *, created: Collection[Path] = ()
) -> CheckedReferences:
    """Apply every cross-reference rule to ``definitions`` of the workspace at ``root``.

    ``created`` holds the files that do not exist yet but will before the
    workspace is loaded (the stubs applying a plan writes), as resolved paths.
    """
    return _Rules(definitions, Path(root).resolve(), frozenset(created)).check()


def plan_only_problems(definitions: Definitions) -> list[Problem]:
    """The plan's own rule: a planned source path must stay inside the workspace.

    ``Workspace.load`` accepts any existing folder, but applying a plan creates
    folders, and it must not create them elsewhere.
    """
    problems = []
    for located in definitions.iterations:
        source = PurePosixPath(located.entry.source_path.replace("\\", "/"))
        if located.planned and (source.is_absolute() or ".." in source.parts):
            problems.append(
                located.problem(
                    "source_path",
                    f"expected a folder inside the workspace, found {located.entry.source_path!r}",
                )
            )
    return problems


def known(ids: Iterable[str]) -> str:
    """``ids`` for a message: each once, in order, or ``(none)``."""
    unique = list(dict.fromkeys(ids))
    return ", ".join(unique) if unique else "(none)"


class _Rules:
    """The rules, applied in order; each appends to ``found.problems``."""

    def __init__(self, definitions: Definitions, root: Path, created: frozenset[Path]) -> None:
        self.root = root
        self.created = created
        self.found = CheckedReferences()
        self.iterations = self._unique(definitions.iterations, self.found.iterations)
        self.metrics = self._unique(definitions.metrics, self.found.metrics)
        self.runs = self._unique(definitions.runs, self.found.runs)

    def check(self) -> CheckedReferences:
        self._parents()
        self._sources()
        self._metric_classes()
        self._run_references()
        return self.found

    def _add(self, problem: Problem) -> None:
        self.found.problems.append(problem)

    def _unique(self, entries: Sequence[Located[E]], by_id: dict[str, E]) -> list[Located[E]]:
        """Report duplicate ids; keep every entry but a plan's identical restatement of one."""
        first: dict[str, Located[E]] = {}
        kept = []
        for located in entries:
            earlier = first.setdefault(located.entry.id, located)
            if earlier is not located and earlier.planned != located.planned:
                if earlier.entry == located.entry:
                    continue  # a plan may restate an entry the workspace holds
                self._add(located.problem("id", _redefined(located, earlier)))
            elif earlier is not located:
                self._add(located.problem("id", _duplicate(located, earlier)))
            kept.append(located)
            by_id.setdefault(located.entry.id, located.entry)
        return kept

    def _parents(self) -> None:
        by_id = self.found.iterations
        for located in self.iterations:
            parent = located.entry.parent
            if parent is None:
                continue
            if parent not in by_id:
                message = f"unknown iteration {parent!r}; known: {known(by_id)}"
                self._add(located.problem("parent", message))
            elif (cycle := _cycle(located.entry, by_id)) is not None:
                self._add(located.problem("parent", f"parent cycle: {' -> '.join(cycle)}"))

    def _sources(self) -> None:
        for located in self.iterations:
            problem = self._source_problem(located)
            if problem is not None:
                self._add(problem)

    def _source_problem(self, located: Located[Iteration]) -> Problem | None:
        iteration = located.entry
        if PurePosixPath(iteration.entry_point).suffix not in ENTRY_SUFFIXES:
            return located.problem(
                "entry_point", f"expected a .py or .ipynb file, found {iteration.entry_point!r}"
            )
        directory = iteration.directory(self.root)
        entry = directory / iteration.entry_point
        if directory in self.root.parents:  # "/" or "..": hashing it would walk the workspace too
            message = f"expected the iteration's own folder, found {iteration.source_path!r}, which holds the whole workspace ({directory})"
            return located.problem("source_path", message)
        if not (directory.is_dir() or any(directory in p.parents for p in self.created)):
            hint = "; applying a plan creates a stub only for a .py entry point"
            message = f"folder not found: {iteration.source_path!r} (resolved to {directory})"
            return located.problem("source_path", message + (hint if located.planned else ""))
        if not (entry.is_file() or entry.resolve() in self.created):
            return located.problem(
                "entry_point",
                f"file not found: {iteration.entry_point!r} in {iteration.source_path!r} (expected {entry})",
            )
        return None

    def _metric_classes(self) -> None:
        with importable_from(self.root):
            for located in self.metrics:
                if located.entry.class_path is not None:
                    self._metric_class(located, located.entry.class_path)

    def _metric_class(self, located: Located[MetricDefinition], class_path: str) -> None:
        try:
            cls = import_workspace_object(class_path, self.root)
        except (Exception, SystemExit) as exc:  # any import-time failure is the user's to see
            message = f"cannot import {class_path!r}: {type(exc).__name__}: {exc}"
            self._add(located.problem("class", message))
            return
        if not isinstance(cls, type) or not callable(getattr(cls, "measure", None)):
            message = f"expected a class with a measure() method, found {cls!r}"
            self._add(located.problem("class", message))
            return
        self.found.metric_classes.setdefault(located.entry.id, cls)

    def _run_references(self) -> None:
        for located in self.runs:
            run = located.entry
            self._references(located, "iteration_ids", run.iteration_ids, self.found.iterations)
            if run.repeats is not None and run.seeds and len(run.seeds) != run.repeats:
                message = f"expected {run.repeats} seeds (one per repeat), found {len(run.seeds)}"
                self._add(located.problem("seeds", message))
            self._item_names(located)
            self._references(located, "metric_ids", run.metric_ids, self.found.metrics)

    def _references(
        self,
        located: Located[RunDefinition],
        key: str,
        ids: Sequence[str],
        by_id: Mapping[str, Any],
    ) -> None:
        noun = key.removesuffix("_ids")
        for position, ref in enumerate(ids):
            if ref not in by_id:
                message = f"unknown {noun} {ref!r}; known: {known(by_id)}"
                self._add(located.problem(f"{key}[{position}]", message))

    def _item_names(self, located: Located[RunDefinition]) -> None:
        """Item ids ``<iteration>-<metric>`` must not collide (``a`` × ``b-c`` and ``a-b`` × ``c``)."""
        seen: dict[str, tuple[str, str]] = {}
        for iteration_id in located.entry.iteration_ids:
            for metric_id in located.entry.metric_ids:
                name = f"{iteration_id}-{metric_id}"
                other = seen.setdefault(name, (iteration_id, metric_id))
                if other != (iteration_id, metric_id):
                    self._add(
                        located.problem(
                            "",
                            f"iteration {other[0]!r} × metric {other[1]!r} and iteration {iteration_id!r} × metric {metric_id!r} would both be item {name!r}; rename one",
                        )
                    )


def _duplicate(located: Located[Any], earlier: Located[Any]) -> str:
    return f"duplicate id {located.entry.id!r} (first defined at {earlier.path})"


def _redefined(located: Located[Any], earlier: Located[Any]) -> str:
    return (
        f"id {located.entry.id!r} is already defined in {earlier.file} with different content"
        f" (at {earlier.path}); choose a new id"
    )


def _cycle(start: Iteration, iterations: Mapping[str, Iteration]) -> list[str] | None:
    """The parent chain from ``start`` back to itself, or None when it does not return."""
    chain = [start.id]
    current = start.parent
    while current is not None and current in iterations and current not in chain:
        chain.append(current)
        current = iterations[current].parent
    return [*chain, start.id] if current == start.id else None
