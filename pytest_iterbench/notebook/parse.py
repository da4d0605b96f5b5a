"""Find the exercises of an assignment notebook, whatever markup its author used.

An exercise is its instruction (the markdown just before it, with its images),
its answer region(s), and the check cells after it. Recognised markups, tried
in this order on each cell:

| style | the answer region |
| --- | --- |
| ``nbgrader`` | a cell with ``metadata.nbgrader.solution``: its marked region, else the whole cell |
| ``otter`` | a cell tagged ``otter_answer_cell``: the whole cell |
| ``solution-markers`` | between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` |
| ``code-here-markers`` | between ``### START CODE HERE ###`` and ``### END CODE HERE ###`` |
| ``your-code-here`` | ``# YOUR CODE HERE`` and the ``raise NotImplementedError()`` after it |
| ``write-code-here`` | the placeholder lines after ``# Write your code here.`` |
| ``function-stub`` | the body of a function that is only ``pass`` or ``...`` (after a docstring) |
| ``empty-cell`` | an empty code cell right after a question |

Ids are stable: the same notebook always gives the same ids. They come from
the author's names where there are some (nbgrader ``grade_id``, otter's
``grader.check("q1")``, ``# GRADED FUNCTION: name``, the function's name), else
from the question's heading ("Exercise 2.1" gives ``exercise-2-1``), else from
the exercise's position (``ex-3``).
"""

from __future__ import annotations

import ast
import base64
import binascii
import mimetypes
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from pytest_iterbench.notebook.exercises import (
    AnswerRegion,
    CheckCell,
    CheckRole,
    Exercise,
    ExerciseImage,
    MarkupStyle,
    RegionKind,
)

_BEGIN_SOLUTION = re.compile(r"^\s*#+\s*BEGIN SOLUTION\b")
_END_SOLUTION = re.compile(r"^\s*#+\s*END SOLUTION\b")
_START_CODE = re.compile(r"^\s*#+\s*START CODE HERE\b")
_END_CODE = re.compile(r"^\s*#+\s*END CODE HERE\b")
_YOUR_CODE = re.compile(r"^\s*#\s*YOUR CODE HERE\s*$")
_NOT_IMPLEMENTED = re.compile(r"^\s*raise\s+NotImplementedError\b.*$")
_YOUR_ANSWER = re.compile(r"^\s*YOUR ANSWER HERE\s*$")
_WRITE_CODE = re.compile(r"^\s*#\s*write your code here\.?\s*$", re.IGNORECASE)
_PLACEHOLDER_LINE = re.compile(r"^\s*(pass|\.\.\.|None|raise\s+NotImplementedError\b.*)\s*$")
_GRADED_NAME = re.compile(r"^\s*#\s*GRADED\s+(?:FUNCTION|CLASS)\s*:\s*([A-Za-z_]\w*)", re.M)
_ENCLOSING_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)")
_OTTER_CHECK = re.compile(r"\bgrader\.check\(\s*[\"']([^\"']+)[\"']")
_GRADER_CALL = re.compile(r"\bgrader\.check(?:_all)?\s*\(")
_ASSERT = re.compile(r"^\s*assert\b", re.M)
_TEST_CALL = re.compile(r"^(?!\s*def\s).*\b(?:test_\w+|\w+_test|test)\s*\(", re.M)
_QUESTION_LINE = re.compile(
    r"^\s*(?:#+\s*|\*\*|__)?\s*(?:question|exercise|task|problem|q)\s*#?\s*\d", re.I | re.M
)
_NUMBERED = re.compile(
    r"\b(exercise|question|task|problem|part|q)\s*#?\s*(\d+(?:[.\-]\d+)*[a-z]?)\b", re.I
)
_BARE_NUMBER = re.compile(
    r"^\s*(?:#{1,6}\s*|\*\*|__)?\s*(\d+(?:\.\d+)*)\s*[.)]\s*(?:\*\*|__)?\s*\S"
)  # at the start of the cell: a numbered heading, not a numbered list further down
_ELLIPSIS_ASSIGN = re.compile(r"^[A-Za-z_][\w, ]*=\s*\.\.\.\s*(#.*)?$")
_PART = re.compile(r"^\s*(?:#{1,6}\s*|\*\*|__)?\s*\(([a-z])\)", re.I)
_DATA_URI = re.compile(r"data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=\s]+)")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_ID_FORBIDDEN = re.compile(r"[^A-Za-z0-9._-]+")


def slugify(text: str, *, lower: bool = True) -> str:
    """An id of letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.

    >>> slugify("Exercise 2.1: Squares!")
    'exercise-2.1-squares'
    """
    slug = _ID_FORBIDDEN.sub("-", text.strip())
    slug = slug.lower() if lower else slug
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", slug)


def heading_name(markdown: str) -> str | None:
    """The id a text's numbering gives, in the assignment's own numbering.

    >>> [heading_name(t) for t in ("Exercise 2.1", "**Q3.** Sum", "#### 12. Identity (★☆☆)")]
    ['exercise-2-1', 'q3', 'q12']
    """
    match = _NUMBERED.search(markdown)
    if match is not None:
        number = match.group(2).replace(".", "-").lower()
        word = match.group(1).lower()
        return f"q{number}" if word == "q" else f"{word}-{number}"
    bare = _BARE_NUMBER.match(markdown)
    return f"q{bare.group(1).replace('.', '-')}" if bare else None


def part_letter(markdown: str) -> str | None:
    """``b`` for a text whose last paragraph starts a part ``(b)``; None else."""
    paragraphs = [p for p in markdown.split("\n\n") if p.strip()]
    match = _PART.match(paragraphs[-1]) if paragraphs else None
    return match.group(1).lower() if match else None


def is_question(markdown: str) -> bool:
    """Whether a markdown cell reads as a question an empty code cell below it answers."""
    return (
        bool(_QUESTION_LINE.search(markdown) or _BARE_NUMBER.match(markdown))
        or part_letter(markdown) is not None
        or markdown.rstrip().endswith("?")
    )


def is_stub_cell(cell: NotebookNode) -> bool:
    """A code cell holding only placeholders: comments, ``pass``, ``...``, ``None``."""
    lines = [line.strip() for line in str(cell.source).split("\n") if line.strip()]
    return all(
        line.startswith("#") or _PLACEHOLDER_LINE.match(line) or _ELLIPSIS_ASSIGN.match(line)
        for line in lines
    )


def is_locked(cell: NotebookNode) -> bool:
    """nbgrader's read-only cells and cells marked not editable."""
    meta = cell.get("metadata", {})
    nbgrader = meta.get("nbgrader", {})
    if nbgrader.get("solution"):
        return False
    return bool(nbgrader.get("locked")) or meta.get("editable") is False


def locked_cells(nb: NotebookNode) -> tuple[int, ...]:
    """The indices of the locked cells of a notebook."""
    return tuple(i for i, cell in enumerate(nb.cells) if is_locked(cell))


def check_role(cell: NotebookNode) -> CheckRole | None:
    """``grading`` for nbgrader/otter grading cells, ``check`` for asserts and test calls."""
    if cell.cell_type != "code":
        return None
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    if nbgrader.get("grade") and not nbgrader.get("solution"):
        return "grading"
    if _GRADER_CALL.search(cell.source):
        return "grading"
    if _ASSERT.search(cell.source) or _TEST_CALL.search(cell.source):
        return "check"
    return None


@dataclass(frozen=True)
class _Found:
    """An answer cell found by one detector, before ids and boundaries are known."""

    cell_index: int
    style: MarkupStyle
    regions: tuple[AnswerRegion, ...]
    name: str | None = None
    points: float | None = None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _lines(cell: NotebookNode) -> list[str]:
    return str(cell.source).split("\n")


def _region(index: int, lines: list[str], start: int, end: int, indent: str) -> AnswerRegion:
    return AnswerRegion(index, start, end, indent, "code", "\n".join(lines[start:end]))


def _paired(
    index: int, lines: list[str], begin: re.Pattern[str], end: re.Pattern[str]
) -> list[AnswerRegion]:
    regions: list[AnswerRegion] = []
    position = 0
    while position < len(lines):
        if begin.match(lines[position]):
            close = next((j for j in range(position + 1, len(lines)) if end.match(lines[j])), None)
            if close is None:
                break
            regions.append(_region(index, lines, position + 1, close, _indent(lines[position])))
            position = close
        position += 1
    return regions


def _your_code_here(index: int, lines: list[str]) -> list[AnswerRegion]:
    regions: list[AnswerRegion] = []
    for number, line in enumerate(lines):
        if not _YOUR_CODE.match(line):
            continue
        following = next((j for j in range(number + 1, len(lines)) if lines[j].strip()), None)
        end = number + 1
        if following is not None and _NOT_IMPLEMENTED.match(lines[following]):
            end = following + 1
        regions.append(_region(index, lines, number, end, _indent(line)))
    return regions


def _write_code_here(index: int, lines: list[str]) -> list[AnswerRegion]:
    regions: list[AnswerRegion] = []
    for number, line in enumerate(lines):
        if not _WRITE_CODE.match(line):
            continue
        end = number + 1
        for j in range(number + 1, len(lines)):
            if _PLACEHOLDER_LINE.match(lines[j]):
                end = j + 1
            elif lines[j].strip():
                break
        regions.append(_region(index, lines, number + 1, end, _indent(line)))
    return regions


def _enclosing_function(lines: list[str], line_number: int, indent: str) -> str | None:
    for number in range(min(line_number, len(lines) - 1), -1, -1):
        match = _ENCLOSING_DEF.match(lines[number])
        if match and len(match.group(1)) < len(indent):
            return match.group(2)
    return None


def _marker_name(cell: NotebookNode, regions: list[AnswerRegion]) -> str | None:
    graded = _GRADED_NAME.search(cell.source)
    if graded:
        return graded.group(1)
    first = regions[0]
    return _enclosing_function(_lines(cell), first.start_line - 1, first.indent)


def _mask_magics(source: str) -> str:
    """IPython magics and shell escapes as blank lines, so ``ast`` can parse the rest."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )


def _is_stub_body(body: list[ast.stmt]) -> ast.stmt | None:
    rest = body
    first = rest[0] if rest else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        rest = rest[1:] if isinstance(first.value.value, str) else rest
    if len(rest) != 1:
        return None
    stmt = rest[0]
    if isinstance(stmt, ast.Pass):
        return stmt
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return stmt if stmt.value.value is Ellipsis else None
    return None


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {ast.unparse(d).rsplit(".", 1)[-1] for d in node.decorator_list}


def _candidate_functions(
    tree: ast.Module,
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
            if bases & {"Protocol", "ABC"}:
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def _function_stubs(index: int, cell: NotebookNode) -> list[_Found]:
    try:
        tree = ast.parse(_mask_magics(cell.source))
    except SyntaxError:
        return []
    lines = _lines(cell)
    found: list[_Found] = []
    for name, node in _candidate_functions(tree):
        stmt = _is_stub_body(node.body)
        if stmt is None or stmt.lineno == node.lineno:  # one-line stubs are left alone
            continue
        if _decorator_names(node) & {"abstractmethod", "overload"}:
            continue
        end = stmt.end_lineno or stmt.lineno
        region = _region(index, lines, stmt.lineno - 1, end, _indent(lines[stmt.lineno - 1]))
        found.append(_Found(index, "function-stub", (region,), name))
    return found


def _whole_cell(index: int, cell: NotebookNode) -> AnswerRegion:
    lines = _lines(cell)
    kind: RegionKind = "markdown" if cell.cell_type == "markdown" else "code"
    end = 0 if not cell.source.strip() else len(lines)
    return AnswerRegion(index, 0, end, "", kind, cell.source)


def _nbgrader(index: int, cell: NotebookNode) -> list[_Found]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not meta.get("solution"):
        return []
    lines = _lines(cell)
    regions = _paired(index, lines, _BEGIN_SOLUTION, _END_SOLUTION) or _your_code_here(index, lines)
    if cell.cell_type == "markdown" or not regions:
        regions = [_whole_cell(index, cell)]
    name = meta.get("grade_id")
    points = meta.get("points") if meta.get("grade") else None
    return [_Found(index, "nbgrader", tuple(regions), name, points)]


def _code_markers(index: int, cell: NotebookNode) -> list[_Found]:
    lines = _lines(cell)
    detectors: list[tuple[MarkupStyle, Callable[[], list[AnswerRegion]]]] = [
        ("solution-markers", lambda: _paired(index, lines, _BEGIN_SOLUTION, _END_SOLUTION)),
        ("code-here-markers", lambda: _paired(index, lines, _START_CODE, _END_CODE)),
        ("your-code-here", lambda: _your_code_here(index, lines)),
        ("write-code-here", lambda: _write_code_here(index, lines)),
    ]
    for style, detect in detectors:
        regions = detect()
        if regions:
            return [_Found(index, style, tuple(regions), _marker_name(cell, regions))]
    return []


def _detect(index: int, cell: NotebookNode, previous: NotebookNode | None) -> list[_Found]:
    """The answer regions of one cell, by the first markup that matches."""
    found = _nbgrader(index, cell)
    if found:
        return found
    if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
        return [_Found(index, "otter", (_whole_cell(index, cell),))]
    if is_locked(cell) or check_role(cell) is not None:
        return []
    if cell.cell_type == "markdown":
        if _YOUR_ANSWER.match(cell.source):
            return [_Found(index, "your-code-here", (_whole_cell(index, cell),))]
        return []
    if cell.cell_type != "code":
        return []
    found = _code_markers(index, cell) or _function_stubs(index, cell)
    if found:
        return found
    follows_question = (
        previous is not None and previous.cell_type == "markdown" and is_question(previous.source)
    )
    if follows_question and is_stub_cell(cell):
        return [_Found(index, "empty-cell", (_whole_cell(index, cell),))]
    return []


def _image_outputs(index: int, cell: NotebookNode) -> Iterator[ExerciseImage]:
    for number, output in enumerate(cell.get("outputs", [])):
        data = output.get("data", {})
        for mime in _IMAGE_MIMES:
            if mime in data:
                payload = data[mime]
                raw = payload.encode() if mime == "image/svg+xml" else _b64(payload)
                if raw:
                    ext = mimetypes.guess_extension(mime) or ".bin"
                    yield ExerciseImage(
                        f"cell{index}-output{number}{ext}", mime, raw, index, "output"
                    )
                break


def _b64(payload: Any) -> bytes:
    text = "".join(payload) if isinstance(payload, list) else str(payload)
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return b""


def _markdown_images(
    index: int, cell: NotebookNode, notebook_dir: Path | None
) -> Iterator[ExerciseImage]:
    for name, bundle in sorted(cell.get("attachments", {}).items()):
        mime = next((m for m in bundle if m.startswith("image/")), None)
        if mime is not None:
            yield ExerciseImage(name, mime, _b64(bundle[mime]), index, "attachment")
    for number, match in enumerate(_DATA_URI.finditer(cell.source)):
        ext = mimetypes.guess_extension(match.group(1)) or ".bin"
        data = _b64(match.group(2))
        yield ExerciseImage(
            f"cell{index}-inline{number}{ext}", match.group(1), data, index, "data-uri"
        )
    if notebook_dir is None:
        return
    links = [*_MD_IMAGE.findall(cell.source), *_HTML_IMAGE.findall(cell.source)]
    for link in links:
        if re.match(r"^(?:[a-z]+:|/)", link, re.I):  # remote, data: and attachment: links
            continue
        path = notebook_dir / link
        mime = mimetypes.guess_type(link)[0] or ""
        if mime.startswith("image/") and path.is_file():
            yield ExerciseImage(Path(link).name, mime, path.read_bytes(), index, "file")


def _instruction_span(nb: NotebookNode, first_answer: int, floor: int) -> tuple[int, ...]:
    """The cells just before an answer: markdown, raw, and code cells that only show images."""
    span: list[int] = []
    for index in range(first_answer - 1, floor, -1):
        cell = nb.cells[index]
        shows_image = cell.cell_type == "code" and any(_image_outputs(index, cell))
        if cell.cell_type in ("markdown", "raw") or shows_image:
            span.append(index)
        else:
            break
    return tuple(reversed(span))


def _checks_between(nb: NotebookNode, start: int, stop: int) -> list[CheckCell]:
    checks: list[CheckCell] = []
    for index in range(start + 1, stop):
        role = check_role(nb.cells[index])
        if role is not None:
            points = nb.cells[index].get("metadata", {}).get("nbgrader", {}).get("points")
            checks.append(CheckCell(index, role, points))
    return checks


def _name_mentioned(name: str | None, source: str) -> bool:
    if not name:
        return False
    return re.search(rf"\b{re.escape(name.rsplit('.', 1)[-1])}\b", source) is not None


def _assign_checks(nb: NotebookNode, found: list[_Found]) -> list[list[CheckCell]]:
    """The check cells after each answer cell, up to the next answer cell.

    Several exercises in one cell (two stubs) share the checks after it, each
    taking the checks that mention its name (all of them when none does).
    """
    answer_cells = sorted({f.cell_index for f in found})
    assigned: list[list[CheckCell]] = []
    for item in found:
        following = [c for c in answer_cells if c > item.cell_index]
        stop = following[0] if following else len(nb.cells)
        checks = _checks_between(nb, item.cell_index, stop)
        siblings = [f for f in found if f.cell_index == item.cell_index]
        if len(siblings) > 1:
            mine = [c for c in checks if _name_mentioned(item.name, nb.cells[c.cell_index].source)]
            named = any(
                _name_mentioned(s.name, nb.cells[c.cell_index].source)
                for s in siblings
                for c in checks
            )
            checks = mine if named else checks
        assigned.append(checks)
    return assigned


def _otter_name(nb: NotebookNode, checks: list[CheckCell]) -> str | None:
    for check in checks:
        match = _OTTER_CHECK.search(nb.cells[check.cell_index].source)
        if match:
            return match.group(1)
    return None


def _unique(ids: list[str]) -> list[str]:
    """Repeated ids get ``-2``, ``-3``... in notebook order (never an id already taken)."""
    taken = set(ids)
    unique: list[str] = []
    for exercise_id in ids:
        candidate, count = exercise_id, 1
        while candidate in unique or (count > 1 and candidate in taken):
            count += 1
            candidate = f"{exercise_id}-{count}"
        unique.append(candidate)
    return unique


def _numbered(texts: list[str], above: str | None) -> str | None:
    """The id from the nearest numbered instruction cell; a part ``(b)`` joins the number above it."""
    base = next((n for n in map(heading_name, reversed(texts)) if n), None)
    letter = part_letter(texts[-1]) if texts else None
    if letter is None:
        return base
    base = base or above
    return f"{base}{letter}" if base else f"part-{letter}"


def _bases_above(nb: NotebookNode) -> list[str | None]:
    """For each cell, the numbered id of the nearest markdown above it (for parts)."""
    bases: list[str | None] = []
    current: str | None = None
    for cell in nb.cells:
        bases.append(current)
        if cell.cell_type == "markdown":
            current = heading_name(cell.source) or current
    return bases


def _answered(nb: NotebookNode, index: int, answers: set[int]) -> bool:
    """Whether an answer cell follows a numbered task before the next numbered task."""
    for later in range(index + 1, len(nb.cells)):
        if later in answers:
            return True
        cell = nb.cells[later]
        if cell.cell_type == "markdown" and heading_name(cell.source):
            return False
    return False


def unanswered_tasks(nb: NotebookNode, exercises: list[Exercise]) -> list[tuple[str, int]]:
    """Numbered tasks with no answer cell before the next task: (their id, their cell)."""
    answers = {i for e in exercises for i in e.answer_cells}
    return [
        (name, index)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        and (name := heading_name(cell.source))
        and not _answered(nb, index, answers)
    ]


def _choose_id(item: _Found, otter: str | None, numbered: str | None, ordinal: int) -> str:
    for candidate, lower in ((item.name, False), (otter, False), (numbered, True)):
        if candidate:
            slug = slugify(candidate, lower=lower)
            if slug:
                return slug
    return f"ex-{ordinal}"


def find_exercises(nb: NotebookNode, notebook_dir: Path | None = None) -> list[Exercise]:
    """The exercises of ``nb``, in notebook order, with stable ids and their boundaries.

    ``notebook_dir`` resolves images the instructions link to as local files.
    """
    found: list[_Found] = []
    for index, cell in enumerate(nb.cells):
        found += _detect(index, cell, nb.cells[index - 1] if index else None)
    checks = _assign_checks(nb, found)
    bases = _bases_above(nb)
    exercises: list[Exercise] = []
    for ordinal, (item, item_checks) in enumerate(zip(found, checks, strict=True), start=1):
        earlier = [c for ex in exercises for c in (*ex.answer_cells, *ex.check_cells)]
        floor = max([-1, *(c for c in earlier if c < item.cell_index)])
        span = _instruction_span(nb, item.cell_index, floor)
        instruction = "\n\n".join(
            nb.cells[i].source for i in span if nb.cells[i].cell_type != "code"
        )
        images = [
            image
            for i in span
            for image in (
                _image_outputs(i, nb.cells[i])
                if nb.cells[i].cell_type == "code"
                else _markdown_images(i, nb.cells[i], notebook_dir)
            )
        ]
        texts = [nb.cells[i].source for i in span if nb.cells[i].cell_type != "code"]
        numbered = _numbered(texts, bases[item.cell_index])
        exercise_id = _choose_id(item, _otter_name(nb, item_checks), numbered, ordinal)
        exercises.append(
            Exercise(
                id=exercise_id,
                style=item.style,
                instruction=instruction,
                instruction_cells=span,
                regions=item.regions,
                checks=tuple(item_checks),
                images=tuple(images),
                answer_source=nb.cells[item.cell_index].source,
                points=item.points,
            )
        )
    ids = _unique([exercise.id for exercise in exercises])
    return [replace(exercise, id=new_id) for exercise, new_id in zip(exercises, ids, strict=True)]
