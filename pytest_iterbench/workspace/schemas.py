"""The JSON Schemas of the workspace files, and validation against them.

There is one copy of the schemas: ``schemas/`` at the repository root. A wheel
ships it as ``pytest_iterbench/schemas/``; a checkout (or an editable install)
finds it beside the package.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import jsonschema
from referencing import Registry, Resource

from pytest_iterbench.errors import IterbenchError, Problem

SchemaName = Literal["iterations", "metrics", "runs", "results", "plan"]
SCHEMA_NAMES: tuple[SchemaName, ...] = ("iterations", "metrics", "runs", "results", "plan")


def schema_dir() -> Path:
    """The folder holding ``<name>-schema.json`` files, installed or in a checkout."""
    package = Path(__file__).resolve().parents[1]  # pytest_iterbench/
    for candidate in (package / "schemas", package.parent / "schemas"):
        if (candidate / "runs-schema.json").is_file():
            return candidate
    raise IterbenchError(
        f"the JSON schemas are missing: looked in {package / 'schemas'} and {package.parent / 'schemas'}"
    )


@functools.cache
def load_schema(name: SchemaName) -> dict[str, Any]:
    """The parsed schema for one workspace file."""
    path = schema_dir() / f"{name}-schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _registry() -> Registry[Any]:
    """Every schema under its ``$id``, so one schema can ``$ref`` another (plan -> iterations)."""
    schemas = [load_schema(name) for name in SCHEMA_NAMES]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


@functools.cache
def _validator(name: SchemaName) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    # No check_schema() here: it costs a quarter of a second in every pytest process
    # (xdist workers included), and the shipped schemas are checked by the test suite.
    validator: jsonschema.protocols.Validator = cls(
        schema, registry=_registry(), format_checker=cls.FORMAT_CHECKER
    )
    return validator


def json_path(parts: Iterable[str | int]) -> str:
    """Render a path like ``runs[0].iteration_ids[1]`` from its parts."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def describe_error(error: jsonschema.ValidationError) -> str:
    found = json.dumps(error.instance)
    if len(found) > 80:
        found = found[:77] + "..."
    if error.validator == "additionalProperties" and isinstance(error.schema, dict):
        return f"{error.message}; allowed: {', '.join(sorted(error.schema.get('properties', {})))}"
    if error.validator in ("required", "minItems", "uniqueItems"):
        return error.message
    return f"{error.message} (found {found})"


def document_order(error: jsonschema.ValidationError) -> list[tuple[int, int, str]]:
    """Sort key: array indices numerically (``[2]`` before ``[10]``), keys by name."""
    return [
        (1, 0, part) if isinstance(part, str) else (0, part, "") for part in error.absolute_path
    ]


def validate(name: SchemaName, document: Any, file: str) -> list[Problem]:
    """Every schema violation of ``document``, in document order, as problems."""
    errors = sorted(_validator(name).iter_errors(document), key=document_order)
    return [
        Problem(file, json_path(error.absolute_path), describe_error(error)) for error in errors
    ]
