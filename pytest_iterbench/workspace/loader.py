"""A workspace: the folder holding ``iterations.json``, ``metrics.json`` and ``runs.json``.

Loading validates everything before anything runs: JSON syntax, then each
file's schema, then the cross-references between files (duplicate ids, unknown
ids, parent cycles, missing sources, metric classes that do not import; see
:mod:`~pytest_iterbench.workspace.references`). All problems are reported at
once, each naming the file and the JSON path; a failed load changes nothing on
disk.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.workspace.files import (
    import_object,
    importable_from,
    load_document,
    read_document,
    read_json,
)
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition
from pytest_iterbench.workspace.paths import (
    ITERATIONS_FILE,
    METRICS_FILE,
    RESULTS_FILE,
    RUNS_FILE,
    WorkspacePaths,
)
from pytest_iterbench.workspace.references import (
    KINDS,
    WORKSPACE_FILES,
    Definitions,
    check_references,
    known,
)
from pytest_iterbench.workspace.schema_memo import SchemaMemo

# Kept importable from here for code written against the flat layout.
__all__ = [
    "ITERATIONS_FILE",
    "METRICS_FILE",
    "RESULTS_FILE",
    "RUNS_FILE",
    "Workspace",
    "import_object",
    "importable_from",
    "load_document",
    "read_json",
]


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
    def paths(self) -> WorkspacePaths:
        """Where everything of this workspace lives."""
        return WorkspacePaths(self.root)

    @property
    def results_path(self) -> Path:
        return self.paths.results

    @property
    def state_dir(self) -> Path:
        """``.iterbench/``: journals, locks, per-session scratch; never needed for a report."""
        return self.paths.state_dir

    def run(self, run_id: str) -> RunDefinition:
        """The run named ``run_id``, or a WorkspaceError listing the known runs."""
        try:
            return self.runs[run_id]
        except KeyError:
            message = f"unknown run {run_id!r}; known: {known(self.runs)}"
            raise WorkspaceError([Problem(RUNS_FILE, "runs", message)]) from None

    @classmethod
    def load(
        cls, root: str | Path, *, schema_checked: bool = False, memo: SchemaMemo | None = None
    ) -> Workspace:
        """Load and validate the three definition files of the workspace at ``root``.

        ``schema_checked``: another process on this host (xdist's controller) has
        just validated these files against their schemas, so that check (and the
        import of jsonschema) is skipped. Should the files have changed since and
        anything fail, they are loaded again with every check, whose error stands.

        ``memo``: skip the schema check of a file identical to one whose check
        passed before, and note the checks that pass; the caller saves it once
        nothing can refuse the workspace any more (an invalid workspace, or a
        session refused for another reason, writes nothing).
        """
        root = Path(root).resolve()
        if schema_checked:
            with contextlib.suppress(Exception):
                return cls._load(root, check_schema=False)
        return cls._load(root, check_schema=True, memo=memo)

    @classmethod
    def _load(cls, root: Path, *, check_schema: bool, memo: SchemaMemo | None = None) -> Workspace:
        documents, problems = read_definitions(root, check_schema=check_schema, memo=memo)
        if problems:
            raise WorkspaceError(problems)
        found = check_references(Definitions.read(documents, WORKSPACE_FILES), root)
        if found.problems:
            raise WorkspaceError(found.problems)
        return cls(root, found.iterations, found.metrics, found.runs, found.metric_classes)


def read_definitions(
    root: Path, *, check_schema: bool = True, memo: SchemaMemo | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """The three definition files, each parsed and schema-validated, and their problems."""
    documents: dict[str, Any] = {}
    problems: list[Problem] = []
    for kind in KINDS:
        documents[kind], file_problems = read_document(
            root / WORKSPACE_FILES[kind], kind, check_schema=check_schema, memo=memo
        )
        problems += file_problems
    return documents, problems
