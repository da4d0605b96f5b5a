"""Answers without an automatic check: compare the output the notebook says to expect.

Many assignments have no asserts: they state what the answer should print, in
a markdown (or raw) cell after it, headed "Expected Output" (Coursera's
table), "Expected output:" or "Expected:". ``expected_output_checks`` finds
those cells in an executed notebook and compares them with the text the code
cells just above printed or returned:

- every number the expectation states must appear, in the same order, among
  the numbers of the output, within the precision it was written with (``0.73``
  matches ``0.7310585``; ``4`` does not match ``5``);
- an expectation without numbers must appear in the output, whitespace aside.

>>> expectation_text("**Expected Output**: `[1, 4, 9]`")
'[1, 4, 9]'
>>> numbers_match(["0.73", "2"], "sigmoid = 0.7310585786 and 2.0")
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nbformat import NotebookNode

from pytest_iterbench.notebook.runner import strip_ansi

_HEAD = re.compile(
    r"^\s*(?:#+\s*|\*\*|__|<b>|<strong>)?\s*expected\s*(?:output|result|answer|value)?s?\b"
    r"\s*(?:\*\*|__|</b>|</strong>)?\s*:?\s*(?:\*\*|__)?",
    re.I,
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_HTML_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.I | re.S)
_HTML_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.I | re.S)
_MARKUP = re.compile(r"</?\w+[^>]*>|```\w*|`|\*\*|__|\|?\s*:?-{3,}:?\s*\|?")


@dataclass(frozen=True)
class ExpectedOutcome:
    """One stated expectation and whether the output met it."""

    cell_index: int  # the markdown cell stating it
    answer_cells: tuple[int, ...]  # the code cells whose output was compared
    expected: str
    found: str
    matched: bool

    def message(self) -> str:
        """``expected output not matched in cell 5: expected 4, found 5``."""
        found = " ".join(self.found.split())[:200] or "(no output)"
        expected = " ".join(self.expected.split())[:200]
        return (
            f"expected output not matched (stated in cell {self.cell_index}): "
            f"expected {expected}, found {found}"
        )


def _table_values(body: str) -> list[str] | None:
    """The last cell of each table row (the value; the first cells label it); None without a table."""
    rows = _HTML_ROW.findall(body)
    if rows:
        cells = [_HTML_CELL.findall(row) for row in rows]
        return [found[-1] for found in cells if found]
    lines = [line.strip() for line in body.splitlines() if line.strip().startswith("|")]
    if not lines:
        return None
    values = []
    for line in lines:
        parts = [p.strip() for p in line.strip("|").split("|")]
        if parts and not all(re.fullmatch(r":?-{3,}:?", p) for p in parts):
            values.append(parts[-1])
    return values


def expectation_text(markdown: str) -> str | None:
    """The expectation a cell states, markup removed; None when it states none.

    In a table (HTML or Markdown), each row's last cell is the value; the cells
    before it label it (``**sigmoid(0)** | 0.5`` expects 0.5).
    """
    match = _HEAD.match(markdown)
    if match is None:
        return None
    body = markdown[match.end() :]
    values = _table_values(body)
    if values is not None:
        body = "\n".join(values)
    body = _MARKUP.sub(" ", body)
    text = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    return text or None


def _tolerance(written: str) -> float:
    """Half a unit of the last written digit, plus a little (``0.73`` -> 0.005)."""
    mantissa = written.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    scale = 10.0 ** int(written.lower().split("e")[1]) if "e" in written.lower() else 1.0
    return 0.5 * 10.0**-decimals * scale * 1.01


def numbers_match(expected: list[str], output: str) -> bool:
    """Whether each expected number appears, in order, among the output's numbers."""
    found = [float(n) for n in _NUMBER.findall(output)]
    position = 0
    for written in expected:
        value, tolerance = float(written), _tolerance(written)
        while position < len(found) and not math.isclose(
            found[position], value, rel_tol=1e-9, abs_tol=tolerance
        ):
            position += 1
        if position == len(found):
            return False
        position += 1
    return True


def output_text(cell: NotebookNode) -> str:
    """What a code cell printed or returned, as text."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(str(output.get("text", "")))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(str(output.get("data", {}).get("text/plain", "")))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return strip_ansi("\n".join(parts))


def _matches(expected: str, output: str) -> bool:
    numbers = _NUMBER.findall(expected)
    if numbers:
        return numbers_match(numbers, output)
    return " ".join(expected.split()) in " ".join(output.split())


def _code_cells_above(nb: NotebookNode, index: int) -> tuple[int, ...]:
    """The code cells just above a cell (up to the first markdown that is not an expectation)."""
    cells: list[int] = []
    for above in range(index - 1, -1, -1):
        cell = nb.cells[above]
        if cell.cell_type == "code":
            cells.append(above)
        elif expectation_text(cell.source) is None or cells:
            break
    return tuple(reversed(cells))


def expected_output_checks(nb: NotebookNode) -> list[ExpectedOutcome]:
    """Every stated expectation of an executed notebook, compared with the output above it."""
    outcomes: list[ExpectedOutcome] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("markdown", "raw"):
            continue
        expected = expectation_text(cell.source)
        cells = _code_cells_above(nb, index) if expected else ()
        if expected is None or not cells:
            continue
        found = "\n".join(output_text(nb.cells[i]) for i in cells)
        outcomes.append(ExpectedOutcome(index, cells, expected, found, _matches(expected, found)))
    return outcomes
