"""The JSON Schemas of the workspace files, and validation against them.

There is one copy of the schemas: ``schemas/`` at the repository root. A wheel
ships it as ``pytest_iterbench/schemas/``; a checkout (or an editable install)
finds it beside the package.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pytest_iterbench.errors import IterbenchError, Problem

if TYPE_CHECKING:  # imported where a document is validated: an xdist worker may never need it
    import jsonschema
    from referencing import Registry

SchemaName = Literal["iterations", "metrics", "runs", "results", "plan", "state"]
SCHEMA_NAMES: tuple[SchemaName, ...] = ("iterations", "metrics", "runs", "results", "plan", "state")
#: Deeper documents are refused: parameters travel as JSON to child processes and into
#: records, and every serialiser on the way recurses.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    from referencing import Registry, Resource

    schemas = [load_schema(name) for name in SCHEMA_NAMES]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


@functools.cache
def _validator(name: SchemaName) -> jsonschema.protocols.Validator:
    import jsonschema

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
    found = json.dumps(error.instance, ensure_ascii=True)
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


def value_problems(document: Any, file: str) -> list[Problem]:
    """Values no JSON file should hold, whatever its schema says, each at its JSON path.

    Python's json reads ``NaN``, ``Infinity`` and ``1e400`` (which becomes
    infinity) and lone surrogates (``"\\ud800"``), none of which it can write
    back as strict JSON or UTF-8; and every serialiser recurses, so nesting is
    capped at :data:`MAX_DEPTH`. These are refused here, before the schema, so
    that nothing later (records, child processes, reports) meets them.
    """
    return [Problem(file, json_path(parts), message) for parts, message in _bad_values(document)]


def _bad_values(document: Any) -> Iterator[tuple[list[str | int], str]]:
    stack: list[tuple[list[str | int], Any]] = [([], document)]
    while stack:
        parts, value = stack.pop()
        if len(parts) > MAX_DEPTH:
            yield parts, f"nested deeper than {MAX_DEPTH} levels"
            continue
        if isinstance(value, float) and not math.isfinite(value):
            yield parts, f"expected a finite number, found {value!r} (JSON has no NaN or infinity)"
        elif isinstance(value, str) and _SURROGATE.search(value):
            yield parts, f"expected text, found a lone surrogate in {_shown(value)}"
        elif isinstance(value, dict):
            for key in reversed(list(value)):
                if _SURROGATE.search(key):
                    yield [*parts, _shown(key)], "expected a text key, found a lone surrogate"
                else:
                    stack.append(([*parts, key], value[key]))
        elif isinstance(value, list):
            stack.extend(([*parts, i], item) for i, item in reversed(list(enumerate(value))))


def _shown(text: str) -> str:
    shown = ascii(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def validate(name: SchemaName, document: Any, file: str) -> list[Problem]:
    """Every problem of ``document``: its values (:func:`value_problems`), then its schema, in document order."""
    problems = value_problems(document, file)
    if problems:
        return problems
    errors = sorted(_validator(name).iter_errors(document), key=document_order)
    return [
        Problem(file, json_path(error.absolute_path), describe_error(error)) for error in errors
    ]
