"""Exercise detection over generated assignments (hypothesis): ids follow the author's numbering."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pytest_iterbench.notebook.parse import find_exercises, unanswered_tasks

TITLES = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30).map(str.strip).filter(bool)
MARKUPS = {
    "numpy100": (lambda n, t: f"#### {n}. {t} (★☆☆)", lambda n: f"q{n}"),
    "bold-q": (lambda n, t: f"**Q{n}.** {t}", lambda n: f"q{n}"),
    "question": (lambda n, t: f"### Question {n}\n{t}", lambda n: f"question-{n}"),
    "exercise": (lambda n, t: f"Exercise {n}.1: {t}", lambda n: f"exercise-{n}-1"),
}
STUBS = st.sampled_from(["", "# your code here", "pass", "...", "answer = ...", "# TODO\npass"])


@st.composite
def assignments(draw):
    markup = draw(st.sampled_from(sorted(MARKUPS)))
    numbers = draw(st.lists(st.integers(1, 999), min_size=1, max_size=6, unique=True))
    heading, expected = MARKUPS[markup]
    cells, ids, unanswered = [new_markdown_cell("# Assignment")], [], []
    for number in numbers:
        cells.append(new_markdown_cell(heading(number, draw(TITLES))))
        if draw(st.booleans()) or number == numbers[0]:
            cells.append(new_code_cell(draw(STUBS)))
            ids.append(expected(number))
        else:
            unanswered.append(expected(number))
            cells.append(new_markdown_cell("Think about it; nothing to write here."))
    return new_notebook(cells=cells), ids, unanswered


@settings(max_examples=150, deadline=None)
@given(assignments())
def test_each_answered_heading_is_one_exercise_named_by_its_number(made):
    nb, ids, unanswered = made
    exercises = find_exercises(nb)
    assert [e.id for e in exercises] == ids
    assert all(e.style == "empty-cell" for e in exercises)
    assert [name for name, _ in unanswered_tasks(nb, exercises)] == unanswered


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["x = 1", "print(x)", "import math", "y = x + 1"]), max_size=6))
def test_plain_code_after_plain_text_is_never_an_exercise(sources):
    cells = [new_markdown_cell("Some notes on the data.")]
    cells += [new_code_cell(source) for source in sources]
    assert find_exercises(new_notebook(cells=cells)) == []


@settings(max_examples=100, deadline=None)
@given(assignments())
def test_detection_is_stable(made):
    nb, _, _ = made
    assert [e.to_json() for e in find_exercises(nb)] == [e.to_json() for e in find_exercises(nb)]
