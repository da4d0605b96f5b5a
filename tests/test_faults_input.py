"""Fault injection, input: schema-valid documents with hostile values, and metrics returning them.

Promise: a workspace or plan holding a value the harness cannot carry is
refused with a problem naming the file and the JSON path (exit code 4, nothing
written); a metric returning one fails its own item with a clear reason and the
record is written with status ``error``; never a traceback.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import pytest
from hostile_workspaces import WORKSPACES, snapshot, write_workspace
from hypothesis import HealthCheck, given, settings

from pytest_iterbench.cli import main
from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.llm.plan import PlanInvalid, read_plan_file
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.schemas import validate


@pytest.fixture
def valid(workspace):
    workspace.iteration("v1", tags=["baseline"]).iteration("v2").builtin_metrics().run().write()
    return workspace


def rewrite(workspace, name, old, new):
    path = workspace.root / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


DEEP = "[" * 100_000 + "]" * 100_000
CASES = {
    "nan-parameter": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"lr": NaN}',
        "iterations.json: iterations[0].parameters.lr: expected a finite number, found nan",
    ),
    "infinity-parameter": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"grid": [1, -Infinity]}',
        "iterations.json: iterations[0].parameters.grid[1]: expected a finite number, found -inf",
    ),
    "1e400-parameter": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"lr": 1e400}',
        "iterations.json: iterations[0].parameters.lr: expected a finite number, found inf",
    ),
    "surrogate-parameter": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"name": "a\\ud800"}',
        "iterations.json: iterations[0].parameters.name: expected text, found a lone surrogate in 'a\\ud800'",
    ),
    "surrogate-key": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"\\udc80": 1}',
        "iterations.json: iterations[0].parameters.'\\udc80': expected a text key, found a lone surrogate",
    ),
    "surrogate-tag": (
        "iterations.json",
        '"baseline"',
        '"\\udfff"',
        "iterations.json: iterations[0].tags[0]: expected text, found a lone surrogate in '\\udfff'",
    ),
    "surrogate-unit": (
        "metrics.json",
        '"unit": "%"',
        '"unit": "\\ud83d"',
        "metrics.json: metrics[0].unit: expected text, found a lone surrogate in '\\ud83d'",
    ),
    "infinite-timeout": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {}, "timeout": Infinity',
        "iterations.json: iterations[0].timeout: expected a finite number, found inf",
    ),
    "huge-timeout": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {}, "timeout": ' + "9" * 400,
        "iterations.json: iterations[0].timeout: "
        + "9" * 400
        + " is greater than the maximum of 1000000",
    ),
    "long-integer": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"n": ' + "7" * 5000 + "}",
        "iterations.json: invalid JSON: Exceeds the limit (4300 digits) for integer string conversion",
    ),
    "deep-nesting": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"x": ' + DEEP + "}",
        "iterations.json: invalid JSON: nested too deeply to be parsed",
    ),
    "nesting-past-the-limit": (
        "iterations.json",
        '"parameters": {}',
        '"parameters": {"x": ' + "[" * 70 + "]" * 70 + "}",
        "iterations.json: iterations[0].parameters.x"
        + "[0]" * 61
        + ": nested deeper than 64 levels",
    ),
    "id-with-newline": (
        "runs.json",
        '"id": "run-001"',
        '"id": "run-001\\n"',
        "runs.json: runs[0].id: 'run-001\\n' does not match",
    ),
    "long-id": (
        "iterations.json",
        '"id": "v2"',
        '"id": "' + "v" * 300 + '"',
        "iterations.json: iterations[1].id: '" + "v" * 300 + "' is too long",
    ),
    "huge-repeats": (
        "runs.json",
        '"id": "run-001"',
        '"id": "run-001", "repeats": 10000000',
        "runs.json: runs[0].repeats: 10000000 is greater than the maximum of 1000",
    ),
    "root-source": (
        "iterations.json",
        '"source_path": "iterations/v1"',
        '"source_path": "/"',
        "iterations.json: iterations[0].source_path: expected the iteration's own folder, found '/', which holds the whole workspace (/)",
    ),
    "parent-source": (
        "iterations.json",
        '"source_path": "iterations/v1"',
        '"source_path": ".."',
        "iterations.json: iterations[0].source_path: expected the iteration's own folder, found '..', which holds the whole workspace",
    ),
}


def assert_refused(root: Path, before: dict[str, bytes], err: str, message: str) -> None:
    assert message in err
    assert "Traceback" not in err
    assert snapshot(root) == before


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_validate_refuses_a_hostile_value_naming_file_and_path(valid, capsys, case):
    file, old, new, message = CASES[case]
    rewrite(valid, file, old, new)
    before = snapshot(valid.root)
    assert main(["validate", "--dir", str(valid.root)]) == 4
    assert_refused(valid.root, before, capsys.readouterr().err, message)


@pytest.mark.parametrize("case", ["1e400-parameter", "deep-nesting", "long-integer"])
def test_a_session_refuses_a_hostile_value_as_a_usage_error(valid, pytester, case):
    file, old, new, message = CASES[case]
    rewrite(valid, file, old, new)
    before = snapshot(valid.root)
    result = pytester.runpytest("--iterbench", "run-001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_refused(valid.root, before, str(result.stderr), message)


def test_a_fifo_as_runs_json_is_refused_without_opening_it(valid, capsys):
    (valid.root / "runs.json").unlink()
    os.mkfifo(valid.root / "runs.json")
    assert main(["validate", "--dir", str(valid.root)]) == 4
    err = capsys.readouterr().err
    assert "runs.json: expected a regular file, found a named pipe (FIFO)" in err


def test_a_metric_module_that_exits_is_a_problem_not_an_exit(valid, capsys):
    (valid.root / "exits.py").write_text("import sys\nsys.exit(3)\n")
    rewrite(valid, "metrics.json", "pytest_iterbench.metrics.F1MacroMetric", "exits.Metric")
    assert main(["validate", "--dir", str(valid.root)]) == 4
    assert (
        "metrics.json: metrics[1].class: cannot import 'exits.Metric': SystemExit: 3"
        in capsys.readouterr().err
    )


def test_a_plan_with_non_finite_numbers_is_refused_by_the_same_validator():
    plan = {
        "iterations": [
            {
                "id": "v3",
                "source_path": "iterations/v3",
                "entry_point": "main.py",
                "parameters": {"lr": math.nan},
            }
        ]
    }
    (problem,) = validate("plan", plan, "plan.json")
    assert (
        str(problem)
        == "plan.json: iterations[0].parameters.lr: expected a finite number, found nan (JSON has no NaN or infinity)"
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents=WORKSPACES)
def test_a_hostile_workspace_loads_or_is_refused_and_changes_nothing(documents):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        root.mkdir()
        write_workspace(root, documents)
        before = snapshot(root)
        problems = load_problems(root)
        assert problems is None or problems, "a refusal names at least one problem"
        for problem in problems or ():
            str(problem).encode("utf-8")  # printable: no lone surrogate reaches the terminal
        assert snapshot(root) == before


def load_problems(root: Path) -> list[Problem] | None:
    """None when the workspace loads (its parameters then serialise as strict JSON), else its problems."""
    try:
        workspace = Workspace.load(root)
    except WorkspaceError as exc:
        return list(exc.problems)
    json.dumps([i.parameters for i in workspace.iterations.values()], allow_nan=False)
    return None


def test_a_plan_file_with_a_long_integer_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"iterations": [], "seed": ' + "9" * 5000 + "}")
    with pytest.raises(PlanInvalid) as caught:
        read_plan_file(path)
    assert "plan.json: invalid JSON: Exceeds the limit (4300 digits)" in str(caught.value)
