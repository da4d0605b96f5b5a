"""Reading a workspace's files: JSON documents, and the Python objects they name.

Each reader reports what is wrong as :class:`~pytest_iterbench.errors.Problem`
values naming the file and the place, so that a caller can gather every problem
of a workspace before it reports them at once.
"""

from __future__ import annotations

import importlib
import json
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import Problem, WorkspaceError
from pytest_iterbench.workspace.schema_memo import SchemaMemo
from pytest_iterbench.workspace.schemas import SchemaName, validate, value_problems


def read_json(path: Path, display: str) -> tuple[Any, list[Problem]]:
    """Parse one JSON file; a syntax error becomes a problem with its line and column.

    Only a regular file is opened (a FIFO would block the reader forever); an
    integer too long for Python to parse and nesting too deep for its parser
    are problems too, not exceptions.
    """
    text, problems = read_text(path, display)
    if text is None:
        return None, problems
    return parse_json(text, display)


def read_text(path: Path, display: str) -> tuple[str | None, list[Problem]]:
    """A regular file's UTF-8 text, or None and the problem that kept it from being read."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None, [Problem(display, "", f"expected a regular file, found {_kind(path)}")]
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        return None, [Problem(display, "", f"file not found (expected at {path})")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot be read: {exc}")]


def parse_json(text: str, display: str) -> tuple[Any, list[Problem]]:
    """Parse JSON text; what Python's parser raises becomes a problem naming ``display``."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [
            Problem(display, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        ]
    except ValueError as exc:  # an integer of more digits than int() converts
        return None, [Problem(display, "", f"invalid JSON: {str(exc).split(';')[0]}")]
    except RecursionError:
        return None, [Problem(display, "", "invalid JSON: nested too deeply to be parsed")]


def _kind(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    return "a special file"


def read_document(
    path: Path, name: SchemaName, *, check_schema: bool = True, memo: SchemaMemo | None = None
) -> tuple[Any, list[Problem]]:
    """One definition file, parsed and schema-validated: the document (None if any problem) and the problems.

    ``check_schema=False`` checks the values only (:func:`value_problems`), for a
    file whose schema check already passed in another process. With a ``memo``,
    a text identical to one whose check passed before is not checked again, and
    a text whose check passes is remembered.
    """
    text, problems = read_text(path, path.name)
    if text is None:
        return None, problems
    document, problems = parse_json(text, path.name)
    if problems:
        return None, problems
    if check_schema and memo is not None and memo.passed(name, text):
        check_schema = False
    if not check_schema:
        problems = value_problems(document, path.name)
        return (None if problems else document), problems
    problems = validate(name, document, path.name)
    if memo is not None and not problems:
        memo.remember(name, text)
    return (None if problems else document), problems


def load_document(path: Path, name: SchemaName) -> Any:
    """One definition file, parsed and schema-validated; WorkspaceError otherwise."""
    document, problems = read_document(path, name)
    if problems:
        raise WorkspaceError(problems)
    return document


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


def forget_modules(package: str) -> None:
    """Drop ``package`` and its modules from ``sys.modules`` (and the finders' caches).

    The next import reads the files again: a workspace's ``metrics/`` modules
    change while one process runs (a stub, then the model's code, then a fix).
    """
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def import_workspace_object(dotted: str, root: Path) -> Any:
    """:func:`import_object`, where a name whose top-level package is in ``root`` comes from ``root``.

    ``sys.modules`` may hold a package of that name from elsewhere: another
    workspace loaded earlier in this process, or a ``metrics`` package of the
    current folder. It is forgotten first, so that the workspace's own code is
    measured; call inside :func:`importable_from`. A package this workspace
    loaded already is kept.
    """
    top = dotted.split(".", 1)[0]
    if (root / top).is_dir() or (root / f"{top}.py").is_file():
        loaded = sys.modules.get(top)
        if loaded is not None and not _loaded_from(loaded, root):
            forget_modules(top)
    return import_object(dotted)


def _loaded_from(module: Any, root: Path) -> bool:
    """Whether ``module`` (a package or a module) was read from a file or folder under ``root``."""
    places = [getattr(module, "__file__", None), *getattr(module, "__path__", ())]
    found = [Path(place).resolve() for place in places if place]
    root = root.resolve()
    return bool(found) and all(place.is_relative_to(root) for place in found)


def import_object(dotted: str) -> Any:
    """Import ``package.module.Name``; raise ImportError with the reason."""
    module_name, _, attribute = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from exc
