"""Assignment notebooks written for the notebook processor's tests, one per markup style.

Each ``Snippet`` is a few cells of one exercise in one markup: its
instruction, its answer cell and its check, with a correct and a wrong
solution. ``assignment()`` strings snippets into a notebook (after a locked
setup cell), and ``kernel_pool`` is a warm kernel pool shared by a module.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pytest_iterbench.notebook.kernels import KernelPool

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
SETUP = """\
def sigmoid_test(target):
    assert abs(target(0) - 0.5) < 1e-9, "sigmoid(0) must be 0.5"

class _Grader:
    tests = {"q1": lambda ns: ns["total"] == 10}
    def check(self, name):
        assert self.tests[name](globals()), f"{name} failed"

grader = _Grader()
values = [1, 2, 3, 4]
"""


def nbgrader_meta(
    grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


@dataclass(frozen=True)
class Snippet:
    """One exercise in one markup: cells, the id it must get, right and wrong solutions."""

    style: str
    exercise_id: str
    cells: list[Any]  # instruction(s), answer, check(s): the answer is cells[answer_at]
    answer_at: int
    right: str
    wrong: str
    checks: tuple[int, ...] = (0,)  # offsets after the answer cell
    check_line: str = ""


def _cell(source: str, **metadata: Any) -> Any:
    return new_code_cell(source, metadata=metadata)


def snippets() -> dict[str, Snippet]:
    """A fresh snippet per style (cells are mutable nbformat nodes)."""
    return {
        "nbgrader": Snippet(
            "nbgrader",
            "squares",
            [
                new_markdown_cell("## Exercise 1\nWrite `squares(n)`: the squares of 0..n-1."),
                _cell(
                    "def squares(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
                    **nbgrader_meta("squares", solution=True, grade=False, locked=False),
                ),
                _cell(
                    "assert squares(3) == [0, 1, 4]",
                    **nbgrader_meta(
                        "test-squares", solution=False, grade=True, locked=True, points=2
                    ),
                ),
            ],
            1,
            "return [i * i for i in range(n)]",
            "return [i for i in range(n)]",
            check_line="assert squares(3) == [0, 1, 4]",
        ),
        "solution-markers": Snippet(
            "solution-markers",
            "cube",
            [
                new_markdown_cell("## Exercise 2\nWrite `cube(x)`."),
                _cell("def cube(x):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
                _cell("assert cube(2) == 8"),
            ],
            1,
            "return x ** 3",
            "return x * 3",
        ),
        "your-code-here": Snippet(
            "your-code-here",
            "double",
            [
                new_markdown_cell("## Exercise 3\nWrite `double(x)`."),
                _cell("def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"),
                _cell("assert double(4) == 8"),
            ],
            1,
            "return 2 * x",
            "return x + 2 + 1",
        ),
        "otter": Snippet(
            "otter",
            "q1",
            [
                new_markdown_cell("**Question 1.** Set `total` to the sum of 1, 2, 3 and 4."),
                _cell("total = ...", tags=["otter_answer_cell"]),
                _cell('grader.check("q1")', editable=False, deletable=False),
            ],
            1,
            "total = sum(values)",
            "total = 11",
        ),
        "code-here-markers": Snippet(
            "code-here-markers",
            "sigmoid",
            [
                new_markdown_cell("### Exercise 5 - sigmoid\nImplement the sigmoid."),
                _cell(
                    "# GRADED FUNCTION: sigmoid\nimport math\n\ndef sigmoid(z):\n"
                    "    ### START CODE HERE ### (≈ 1 line of code)\n    s = None\n    ### END CODE HERE ###\n"
                    "    return s"
                ),
                _cell("sigmoid_test(sigmoid)"),
            ],
            1,
            "s = 1 / (1 + math.exp(-z))",
            "s = z",
        ),
        "write-code-here": Snippet(
            "write-code-here",
            "task-6",
            [
                new_markdown_cell("### Task 6\nStore the mean of `values` in `mean`."),
                _cell("# Write your code here."),
                _cell("assert mean == 2.5"),
            ],
            1,
            "mean = sum(values) / len(values)",
            "mean = max(values)",
        ),
        "function-stub": Snippet(
            "function-stub",
            "add",
            [
                new_markdown_cell("## Exercise 7\nComplete `add`."),
                _cell('def add(a, b):\n    """Return a + b."""\n    pass'),
                _cell("assert add(2, 3) == 5"),
            ],
            1,
            "return a + b",
            "return a - b",
        ),
        "empty-cell": Snippet(
            "empty-cell",
            "question-8",
            [
                new_markdown_cell("**Question 8.** What is 6 times 7? Store it in `answer`."),
                _cell(""),
                _cell("assert answer == 42"),
            ],
            1,
            "answer = 6 * 7",
            "answer = 41",
        ),
    }


STYLES = tuple(snippets())


@dataclass
class Assignment:
    """A notebook made of snippets, with where each snippet's cells landed."""

    nb: Any
    placed: dict[str, tuple[Snippet, int]] = field(
        default_factory=dict
    )  # style -> (snippet, first cell)

    def answer_cell(self, style: str) -> int:
        snippet, start = self.placed[style]
        return start + snippet.answer_at

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.nb, str(path))
        return path


def assignment(styles: tuple[str, ...] = STYLES, *, title: str = "# Homework") -> Assignment:
    """A notebook: a title, a locked setup cell, then one snippet per style."""
    parts = snippets()
    cells: list[Any] = [new_markdown_cell(title), _cell(SETUP, editable=False, deletable=False)]
    placed: dict[str, tuple[Snippet, int]] = {}
    for style in styles:
        placed[style] = (parts[style], len(cells))
        for cell in parts[style].cells:
            fresh = copy.deepcopy(cell)
            fresh["id"] = uuid.uuid4().hex[:8]  # a style may appear twice: ids must stay unique
            cells.append(fresh)
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": dict(KERNELSPEC), "course": {"name": "JHU AGAI"}}
    )
    return Assignment(nb, placed)


def solutions_folder(
    folder: Path, styles: tuple[str, ...] = STYLES, *, wrong: tuple[str, ...] = ()
) -> Path:
    """``<exercise-id>.py`` files: the right solution, or the wrong one for ``wrong`` styles."""
    folder.mkdir(parents=True, exist_ok=True)
    for style in styles:
        snippet = snippets()[style]
        text = snippet.wrong if style in wrong else snippet.right
        (folder / f"{snippet.exercise_id}.py").write_text(text + "\n", encoding="utf-8")
    return folder


def solutions_json(path: Path, styles: tuple[str, ...] = STYLES) -> Path:
    path.write_text(
        json.dumps({snippets()[s].exercise_id: snippets()[s].right for s in styles}),
        encoding="utf-8",
    )
    return path


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A PNG of one colour (with a gradient so it does not compress to nothing)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 7):
        for y in range(0, height, 7):
            image.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def warm_kernel_pool():
    """Two kernels kept warm for a test module (each notebook still gets a fresh one).

    A module makes it its fixture with ``kernel_pool = pytest.fixture(...)(warm_kernel_pool)``.
    """
    with KernelPool(size=2) as pool:
        pool.warm()
        yield pool
