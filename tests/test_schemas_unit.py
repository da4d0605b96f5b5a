"""Unit tests of ``pytest_iterbench.workspace.schemas`` and ``pytest_iterbench.workspace.model``."""

from __future__ import annotations

import copy
import json
import string
from collections import deque
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import json_values
from seed_documents import SEED_DOCUMENTS, SEED_ITERATIONS, SEED_METRICS, SEED_RUNS

from pytest_iterbench.workspace.model import Iteration, MetricDefinition, RunDefinition
from pytest_iterbench.workspace.schemas import (
    SCHEMA_NAMES,
    json_path,
    load_schema,
    schema_dir,
    validate,
)

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
ALNUM = string.ascii_letters + string.digits

# The seed's example documents, sections 4.1 to 4.4, verbatim.

# -- strategies ----------------------------------------------------------------------------

ids = st.builds(
    lambda head, tail: head + tail, st.sampled_from(ALNUM), st.text(ALNUM + "._-", max_size=10)
)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
class_paths = st.lists(identifiers, min_size=2, max_size=4).map(".".join)
timestamps = st.datetimes().map(lambda moment: moment.isoformat(timespec="seconds") + "Z")
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
positive = st.floats(min_value=0, max_value=1e6, exclude_min=True)  # the schemas cap both fields

iterations = st.builds(
    Iteration,
    id=ids,
    source_path=st.text(min_size=1, max_size=20),
    entry_point=st.text(min_size=1, max_size=20),
    name=st.text(max_size=20),
    description=st.text(max_size=20),
    approach=st.text(max_size=20),
    parameters=json_objects,
    parent=st.none() | ids,
    created_at=st.none() | timestamps,
    tags=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    timeout=st.none() | positive,
    memory_limit_mb=st.none() | positive,
)
metric_definitions = st.builds(
    MetricDefinition,
    id=ids,
    higher_is_better=st.booleans(),
    unit=st.text(max_size=8),
    name=st.text(max_size=20),
    description=st.text(max_size=20),
    type=st.text(max_size=12),
    class_path=st.none() | class_paths,
    options=json_objects,
)
run_definitions = st.builds(
    RunDefinition,
    id=ids,
    iteration_ids=st.lists(ids, min_size=1, max_size=4, unique=True).map(tuple),
    metric_ids=st.lists(ids, min_size=1, max_size=4, unique=True).map(tuple),
    name=st.text(max_size=20),
    description=st.text(max_size=20),
    status=st.none() | st.sampled_from(["pending", "running", "completed", "failed"]),
    created_at=st.none() | timestamps,
)


def through_disk(data):
    """What ``from_json`` reads back after the data went through a JSON file."""
    return json.loads(json.dumps(data, allow_nan=False))


# -- the schema files ----------------------------------------------------------------------


def test_every_workspace_file_has_a_schema():
    assert schema_dir() == SCHEMAS
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{name}-schema.json" for name in SCHEMA_NAMES
    )


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.name)
def test_schema_is_a_valid_draft_2020_12_schema(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_load_schema_reads_the_file(name):
    assert load_schema(name) == json.loads(
        (SCHEMAS / f"{name}-schema.json").read_text(encoding="utf-8")
    )


# -- json_path -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("runs", 0, "iteration_ids", 1), "runs[0].iteration_ids[1]"),
        (deque(["runs", 0, "iteration_ids", 1]), "runs[0].iteration_ids[1]"),
        (("iterations",), "iterations"),
        (("results", 12, "environment", "python"), "results[12].environment.python"),
        ((), "(top level)"),
    ],
)
def test_json_path(parts, expected):
    assert json_path(parts) == expected


# -- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "document"), SEED_DOCUMENTS.items(), ids=SEED_DOCUMENTS.keys())
def test_the_seed_examples_are_valid(name, document):
    assert validate(name, document, f"{name}.json") == []


def test_validate_names_a_non_string_id():
    document = copy.deepcopy(SEED_ITERATIONS)
    document["iterations"][0]["id"] = 3
    problems = validate("iterations", document, "iterations.json")
    assert [(p.file, p.location) for p in problems] == [("iterations.json", "iterations[0].id")]
    assert "'string'" in problems[0].message
    assert "found 3" in problems[0].message
    assert str(problems[0]).startswith("iterations.json: iterations[0].id: ")


def test_validate_names_an_unknown_property():
    document = copy.deepcopy(SEED_ITERATIONS)
    document["iterations"][1]["paramters"] = document["iterations"][1].pop("parameters")
    problems = validate("iterations", document, "iterations.json")
    assert [p.location for p in problems] == ["iterations[1]"]
    assert "'paramters'" in problems[0].message
    assert "allowed:" in problems[0].message
    assert "parameters" in problems[0].message.split("allowed:")[1]


def test_validate_names_a_missing_property():
    document = copy.deepcopy(SEED_RUNS)
    del document["runs"][1]["metric_ids"]
    problems = validate("runs", document, "runs.json")
    assert [p.location for p in problems] == ["runs[1]"]
    assert "'metric_ids'" in problems[0].message


def test_validate_reports_problems_in_document_order():
    entry = {"source_path": "iterations/x/", "entry_point": "main.py"}
    document = {"iterations": [{"id": f"v{k}", **entry} for k in range(12)]}
    document["iterations"][2]["id"] = 2
    document["iterations"][10]["id"] = 10
    problems = validate("iterations", document, "iterations.json")
    assert [p.location for p in problems] == ["iterations[2].id", "iterations[10].id"]


# -- the model's round trips -----------------------------------------------------------------


def test_the_seed_iterations_read_and_write_back():
    for entry in SEED_ITERATIONS["iterations"]:
        assert Iteration.from_json(entry).to_json() == entry


def test_the_seed_metrics_read_and_write_back():
    for entry in SEED_METRICS["metrics"]:
        assert MetricDefinition.from_json(entry).to_json() == entry


def test_the_seed_runs_read_and_write_back():
    for entry in SEED_RUNS["runs"]:
        assert RunDefinition.from_json(entry).to_json() == entry


@settings(max_examples=50, deadline=None)
@given(iterations)
def test_iteration_round_trip(iteration):
    data = through_disk(iteration.to_json())
    assert Iteration.from_json(data) == iteration
    assert validate("iterations", {"iterations": [data]}, "iterations.json") == []


@settings(max_examples=50, deadline=None)
@given(metric_definitions)
def test_metric_definition_round_trip(metric):
    data = through_disk(metric.to_json())
    assert MetricDefinition.from_json(data) == metric
    assert validate("metrics", {"metrics": [data]}, "metrics.json") == []


@settings(max_examples=50, deadline=None)
@given(run_definitions)
def test_run_definition_round_trip(run):
    data = through_disk(run.to_json())
    assert RunDefinition.from_json(data) == run
    assert validate("runs", {"runs": [data]}, "runs.json") == []


def test_configuration_hash_tracks_source_and_parameters(tmp_path):
    from pytest_iterbench.workspace.model import Iteration, configuration_hash

    (tmp_path / "main.py").write_text("def run(p):\n    return {}\n")
    (tmp_path / "weights.bin").write_bytes(b"\0" * 10)
    iteration = Iteration(id="v1", source_path=".", entry_point="main.py", parameters={"lr": 0.1})
    first = configuration_hash(iteration, tmp_path)
    assert configuration_hash(iteration, tmp_path) == first
    assert (
        configuration_hash(
            Iteration(
                id="other-id", source_path=".", entry_point="main.py", parameters={"lr": 0.1}
            ),
            tmp_path,
        )
        == first
    ), "the id is a name, not configuration"
    assert (
        configuration_hash(
            Iteration(id="v1", source_path=".", entry_point="main.py", parameters={"lr": 0.2}),
            tmp_path,
        )
        != first
    )
    (tmp_path / "main.py").write_text("def run(p):\n    return {'x': 1}\n")
    second = configuration_hash(iteration, tmp_path)
    assert second != first
    (tmp_path / "weights.bin").write_bytes(b"\0" * 11)
    (tmp_path / "log.txt").write_text("written by the iteration")
    assert configuration_hash(iteration, tmp_path) == second, (
        "data and outputs are not configuration"
    )
