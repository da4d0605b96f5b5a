"""Which xdist scope an item belongs to: its execution (iteration, repeat)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pytest_iterbench.harness.scheduling import IterationScheduling, execution_scopes, scope_of
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


class FakeConfig:
    """What xdist's LoadScopeScheduling reads of the config: two popen workers."""

    option = SimpleNamespace(loadscopereorder=False)

    def getvalue(self, name):
        return {"tx": ["2*popen"]}[name]


class FakeNode:
    """A worker as the scheduler drives it: the item indexes it was sent, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes):
        self.sent.extend(indexes)

    def shutdown(self):
        self.shutting_down = True


def scheduled_session(executions: int, metrics: tuple[str, ...]):
    run = RunDefinition("r", tuple(f"v{n}" for n in range(executions)), metrics)
    iterations = {i: Iteration(i, ".", "main.py") for i in run.iteration_ids}
    defined = {m: MetricDefinition(m, True, "") for m in metrics}
    space = Workspace(Path("."), iterations, defined, {run.id: run}, {})
    collection = [f"runs.json::r::{i}-{m}" for i in run.iteration_ids for m in metrics]
    scheduler = IterationScheduling(FakeConfig(), None, execution_scopes(space, run))
    nodes = [FakeNode("gw0"), FakeNode("gw1")]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    return scheduler, nodes, collection


def held(node: FakeNode, done: set[tuple[str, int]]) -> list[int]:
    return [i for i in node.sent if (node.name, i) not in done]


def test_a_worker_gets_its_next_execution_only_at_the_last_item_of_its_current_one():
    scheduler, (gw0, gw1), collection = scheduled_session(6, ("acc", "f1", "auc"))
    done: set[tuple[str, int]] = set()
    # One execution each at first (xdist's own heuristic sends two).
    assert [collection[i] for i in gw0.sent] == [
        f"runs.json::r::v0-{m}" for m in ("acc", "f1", "auc")
    ]
    assert len(gw1.sent) == 3

    def complete(node: FakeNode) -> None:
        index = held(node, done)[0]
        done.add((node.name, index))
        scheduler.mark_test_complete(node, index)

    complete(gw0)  # v0-acc ran the iteration: two items left, nothing more yet
    assert len(held(gw0, done)) == 2
    complete(gw0)  # down to v0-auc: the next execution arrives, so that v0-auc can run
    assert [collection[i].rsplit("::", 1)[1] for i in held(gw0, done)] == [
        "v0-auc",
        "v2-acc",
        "v2-f1",
        "v2-auc",
    ]
    # Run everything out: every item is sent once, both workers are told to stop.
    while any(held(node, done) for node in (gw0, gw1)):
        for node in (gw0, gw1):
            if held(node, done):
                complete(node)
    assert sorted(gw0.sent + gw1.sent) == list(range(len(collection)))
    assert gw0.shutting_down
    assert gw1.shutting_down


def test_single_item_executions_still_give_a_worker_the_next_item_it_needs():
    """A worker runs an item only once it holds the next: with one metric, two executions at once."""
    _, (gw0, gw1), _ = scheduled_session(5, ("acc",))
    assert len(gw0.sent) == 2
    assert len(gw1.sent) == 2
