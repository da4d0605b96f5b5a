"""Which xdist scope an item belongs to: its execution (iteration, repeat)."""

from __future__ import annotations

from pathlib import Path

from pytest_iterbench.harness.scheduling import execution_scopes, scope_of
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition


def workspace(run: RunDefinition) -> Workspace:
    iterations = {i: Iteration(i, ".", "main.py") for i in ("v1", "v1-b")}
    metrics = {m: MetricDefinition(m, True, "") for m in ("acc", "f1")}
    return Workspace(Path("."), iterations, metrics, {run.id: run}, {})


def test_items_of_one_execution_share_a_scope():
    run = RunDefinition("r", ("v1", "v1-b"), ("acc", "f1"))
    scopes = execution_scopes(workspace(run), run)
    assert scope_of("runs.json::r::v1-acc", scopes) == "iterbench:v1-r0"
    assert scope_of("runs.json::r::v1-f1", scopes) == "iterbench:v1-r0"
    assert scope_of("runs.json::r::v1-b-acc", scopes) == "iterbench:v1-b-r0"
    assert scope_of("metrics/test_x.py::test_x[v1-b]", scopes) == "iterbench:v1-b-r0"
    assert scope_of("metrics/test_x.py::test_x[v1]", scopes) == "iterbench:v1-r0"
    assert scope_of("tests/test_plain.py::test_plain", scopes) is None


def test_repeats_get_a_scope_each():
    run = RunDefinition("r", ("v1",), ("acc",), repeats=2)
    scopes = execution_scopes(workspace(run), run)
    assert scope_of("runs.json::r::v1-acc-r1", scopes) == "iterbench:v1-r1"
    assert scope_of("m.py::test_m[v1-r0]", scopes) == "iterbench:v1-r0"
