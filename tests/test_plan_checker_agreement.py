"""The plan checker and ``Workspace.load`` agree: one set of cross-reference rules.

Plans are drawn over small id pools that overlap the workspace's own ids and
each other (``c`` × ``x-m`` and ``c-x`` × ``m`` are both item ``c-x-m``), with
parents, sources, entry points, metric classes, seeds and references that are
sometimes right and sometimes wrong, so that every rule fires in some examples
and a good share of the plans is accepted.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.plan import Existing, Plan, plan_problems, planned_stubs
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition
from pytest_iterbench.workspace.references import Definitions, plan_only_problems

MAIN = "def run(parameters):\n    return {}\n"
ACCURACY = "pytest_iterbench.metrics.AccuracyMetric"
TIME = "pytest_iterbench.metrics.ExecutionTimeMetric"
ITERATION_IDS = ["a", "b", "c", "c-x", "d", "zzz"]  # zzz is never defined
METRIC_IDS = ["acc", "t", "x-m", "m", "nope"]  # nope is never defined
FOLDERS = [
    "iterations/a",
    "iterations/b",
    "iterations/nocode",
    "iterations/new1",
    "iterations/new2",
]
CLASSES = [None, None, ACCURACY, ACCURACY, TIME, "pytest_iterbench.metrics.Nope", "nowhere.Metric",
           "pytest_iterbench.errors.Problem", "json.dumps"]  # fmt: skip
MODELS: dict[str, Any] = {
    "iterations": Iteration,
    "metrics": MetricDefinition,
    "runs": RunDefinition,
}

# -- the workspace -----------------------------------------------------------------------


@st.composite
def workspaces(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """A small valid workspace: iterations a (and b, a variant of a), one or two metrics, one run."""
    iterations = [{"id": "a", "source_path": "iterations/a", "entry_point": "main.py"}]
    if draw(st.booleans()):
        iterations.append(
            {"id": "b", "source_path": "iterations/b", "entry_point": "main.py", "parent": "a"}
        )
    metric_ids = draw(st.lists(st.sampled_from(["acc", "t"]), min_size=1, max_size=2, unique=True))
    metrics = [
        {
            "id": m,
            "higher_is_better": m == "acc",
            "unit": "",
            "class": ACCURACY if m == "acc" else TIME,
        }
        for m in metric_ids
    ]
    run = {"id": "r1", "iteration_ids": [it["id"] for it in iterations], "metric_ids": metric_ids}
    return {"iterations": iterations, "metrics": metrics, "runs": [run]}


def write_workspace(root: Path, documents: dict[str, list[dict[str, Any]]]) -> None:
    """The three files, a and b with their main.py, and iterations/nocode, a folder without code."""
    for name in ("a", "b"):
        (root / "iterations" / name).mkdir(parents=True)
        (root / "iterations" / name / "main.py").write_text(MAIN)
    (root / "iterations" / "nocode").mkdir()
    for kind, entries in documents.items():
        (root / f"{kind}.json").write_text(json.dumps({kind: entries}, indent=2))


@contextmanager
def workspace_at(documents: dict[str, list[dict[str, Any]]]) -> Iterator[Path]:
    # A folder per example: hypothesis runs many examples in one test call.
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder).resolve()
        write_workspace(root, documents)
        yield root


# -- plans -------------------------------------------------------------------------------


def mostly(good: Any, *bad: Any) -> st.SearchStrategy[Any]:
    """``good`` three times out of four (sampled_from draws uniformly)."""
    return st.sampled_from([good, good, good, *bad])


@st.composite
def new_iterations(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": draw(st.sampled_from(ITERATION_IDS[:-1])),
        "source_path": draw(st.sampled_from(FOLDERS)),
        "entry_point": draw(mostly("main.py", "main.ipynb", "other.py", "main.txt")),
    }
    parent = draw(st.sampled_from([None, None, *ITERATION_IDS]))
    if parent is not None:
        entry["parent"] = parent
    return entry


@st.composite
def metrics(draw: st.DrawFn) -> dict[str, Any]:
    entry = {
        "id": draw(st.sampled_from(METRIC_IDS[:-1])),
        "higher_is_better": draw(st.booleans()),
        "unit": "",
    }
    class_path = draw(st.sampled_from(CLASSES))
    if class_path is not None:
        entry["class"] = class_path
    return entry


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": draw(st.sampled_from(["r1", "r2", "r3"])),
        "iteration_ids": draw(
            st.lists(st.sampled_from(ITERATION_IDS), min_size=1, max_size=3, unique=True)
        ),
        "metric_ids": draw(
            st.lists(st.sampled_from(METRIC_IDS), min_size=1, max_size=2, unique=True)
        ),
    }
    repeats = draw(st.sampled_from([None, None, 1, 2]))
    if repeats is not None:
        entry["repeats"] = repeats
    if draw(st.booleans()):
        entry["seeds"] = draw(st.lists(st.integers(0, 9), min_size=1, max_size=2))
    return entry


@st.composite
def plans(draw: st.DrawFn, workspace: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A schema-valid plan; some entries restate the workspace's own, unchanged."""

    def entries(kind: str, new: st.SearchStrategy[dict[str, Any]]) -> list[dict[str, Any]]:
        restated = st.sampled_from(workspace[kind])
        return draw(st.lists(st.one_of(new, restated), max_size=3))

    return {
        "plan_version": 1,
        "description": "generated",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-01-01T00:00:00Z",
        "iterations": entries("iterations", new_iterations()),
        "metrics": entries("metrics", metrics()),
        "runs": entries("runs", runs()),
    }


workspaces_and_plans = workspaces().flatmap(lambda ws: st.tuples(st.just(ws), plans(ws)))

# The smallest workspace, and explicit plans so that each direction surely runs.
ACCEPTED = {
    "iterations": [{"id": "a", "source_path": "iterations/a", "entry_point": "main.py"}],
    "metrics": [{"id": "acc", "higher_is_better": True, "unit": "", "class": ACCURACY}],
    "runs": [{"id": "r1", "iteration_ids": ["a"], "metric_ids": ["acc"]}],
}


def plan_of(iterations: list[Any], metrics: list[Any], runs: list[Any]) -> dict[str, Any]:
    return {
        "plan_version": 1,
        "description": "explicit",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-01-01T00:00:00Z",
        "iterations": iterations,
        "metrics": metrics,
        "runs": runs,
    }


# A plan that adds a stubbed iteration and a run over it; one whose items collide.
STUBBED = plan_of(
    [{"id": "d", "source_path": "iterations/new1", "entry_point": "main.py", "parent": "a"}],
    [],
    [{"id": "r2", "iteration_ids": ["a", "d"], "metric_ids": ["acc"], "seeds": [1]}],
)
COLLIDING = plan_of(
    [
        {"id": "c", "source_path": "iterations/a", "entry_point": "main.py"},
        {"id": "c-x", "source_path": "iterations/a", "entry_point": "main.py"},
    ],
    [{"id": "x-m", "higher_is_better": True, "unit": ""}, {"id": "m", "higher_is_better": True, "unit": ""}],
    [{"id": "r2", "iteration_ids": ["c", "c-x"], "metric_ids": ["x-m", "m"]}],
)  # fmt: skip

# -- the properties ----------------------------------------------------------------------

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@example(case=(ACCEPTED, STUBBED))
@given(case=workspaces_and_plans)
def test_a_plan_the_checker_accepts_loads_once_applied(case):
    """An accepted plan, applied with ``apply_plan``, is a workspace ``Workspace.load`` accepts."""
    workspace, document = case
    with workspace_at(workspace) as root:
        if plan_problems(document, Existing.read(root)):
            event("rejected")
            return
        event("accepted")
        apply_plan(Plan.from_json(document), root)
        loaded = Workspace.load(root)
    for kind in ("iterations", "metrics", "runs"):
        assert {entry["id"] for entry in document[kind]} <= set(getattr(loaded, kind))


@SETTINGS
@example(case=(ACCEPTED, COLLIDING))
@given(case=workspaces_and_plans)
def test_a_plan_the_checker_rejects_is_a_workspace_the_loader_rejects(case):
    """A plan rejected for a cross-reference reason, written straight in, fails ``Workspace.load``.

    The plan's entries are appended to the workspace files (an entry the
    workspace already holds unchanged is not repeated) and the stubs that
    applying the plan writes are created. The plan-only rule (a source path
    must stay inside the workspace) is excluded: ``Workspace.load`` accepts any
    existing folder. The generated plans never leave the workspace anyway.
    The load finds as many problems as the checker did.
    """
    workspace, document = case
    with workspace_at(workspace) as root:
        problems = plan_problems(document, Existing.read(root))
        plan_only = plan_only_problems(Definitions.planned(document, "plan.json"))
        cross_reference = [p for p in problems if p not in plan_only]
        if not cross_reference:
            event("accepted")
            return
        event("rejected")
        write_merged(root, workspace, document)
        with pytest.raises(WorkspaceError) as caught:
            Workspace.load(root)
    assert len(caught.value.problems) == len(cross_reference), (cross_reference, caught.value)


def write_merged(
    root: Path, workspace: dict[str, list[dict[str, Any]]], document: dict[str, Any]
) -> None:
    """The plan's entries appended to the workspace's files, and the plan's stubs written."""
    for kind, model in MODELS.items():
        held = [model.from_json(entry) for entry in workspace[kind]]
        new = [entry for entry in document[kind] if model.from_json(entry) not in held]
        (root / f"{kind}.json").write_text(json.dumps({kind: workspace[kind] + new}))
    for _, entry in planned_stubs(document["iterations"], root):
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(MAIN)


def test_both_directions_are_exercised():
    """Guard against a vacuous property: the explicit examples are accepted and rejected."""
    with workspace_at(ACCEPTED) as root:
        assert plan_problems(STUBBED, Existing.read(root)) == []
        assert [p.location for p in plan_problems(COLLIDING, Existing.read(root))] == ["runs[0]"]


def test_problems_name_the_plan_file_or_the_workspace_file():
    """Each entry carries its place: a planned one names the plan, an existing one its file."""
    broken = {
        **ACCEPTED,
        "runs": [{"id": "r1", "iteration_ids": ["a", "v9"], "metric_ids": ["acc"]}],
    }
    plan = plan_of(
        [{"id": "d", "source_path": "../outside", "entry_point": "main.py", "parent": "v0"}], [], []
    )
    with workspace_at(broken) as root:
        problems = [str(p) for p in plan_problems(plan, Existing.read(root), file="my-plan.json")]
    assert problems == [
        "my-plan.json: iterations[0].parent: unknown iteration 'v0'; known: a, d",
        "runs.json: runs[0].iteration_ids[1]: unknown iteration 'v9'; known: a, d",
        "my-plan.json: iterations[0].source_path: expected a folder inside the workspace,"
        " found '../outside'",
    ]
