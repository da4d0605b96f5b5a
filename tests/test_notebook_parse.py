"""Exercise detection: every markup style, ids, boundaries, images; properties with hypothesis."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from notebook_helpers import STYLES, assignment, b64, png, snippets

from pytest_iterbench.notebook.exercises import Exercise, ExerciseMap
from pytest_iterbench.notebook.parse import find_exercises, heading_name, locked_cells, slugify

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@pytest.mark.parametrize("style", STYLES)
def test_each_markup_style_is_found_with_its_id_and_boundaries(style):
    made = assignment((style,))
    snippet, start = made.placed[style]
    [exercise] = find_exercises(made.nb)
    assert exercise.style == style
    assert exercise.id == snippet.exercise_id
    assert exercise.answer_cells == (start + snippet.answer_at,)
    assert exercise.instruction_cells == (start,)
    assert exercise.check_cells == tuple(start + snippet.answer_at + 1 + o for o in snippet.checks)
    assert exercise.instruction == snippet.cells[0].source


def test_all_styles_in_one_notebook_in_order():
    made = assignment()
    found = find_exercises(made.nb)
    assert [e.style for e in found] == list(STYLES)
    assert [e.id for e in found] == [snippets()[s].exercise_id for s in STYLES]
    for exercise, style in zip(found, STYLES, strict=True):
        assert exercise.answer_cells == (made.answer_cell(style),)


def test_regions_cover_exactly_the_placeholder_lines():
    found = {e.style: e for e in find_exercises(assignment().nb)}
    assert (
        found["nbgrader"].regions[0].placeholder
        == "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert found["solution-markers"].regions[0].placeholder == "    pass"
    assert found["code-here-markers"].regions[0].placeholder == "    s = None"
    assert found["code-here-markers"].regions[0].indent == "    "
    assert found["function-stub"].regions[0].placeholder == "    pass"
    stub = found["write-code-here"].regions[0]
    assert (stub.start_line, stub.end_line) == (1, 1)  # an insertion after the marker
    assert found["otter"].regions[0].placeholder == "total = ..."


def test_nbgrader_grading_cells_are_checks_with_points_and_locked():
    made = assignment(("nbgrader",))
    [exercise] = find_exercises(made.nb)
    [check] = exercise.checks
    assert (check.role, check.points) == ("grading", 2)
    assert check.cell_index in locked_cells(made.nb)


def test_otter_id_comes_from_the_grader_check_call():
    made = assignment(("otter",))
    made.nb.cells[made.answer_cell("otter") - 1].source = "Set `total`."  # no "Question" heading
    [exercise] = find_exercises(made.nb)
    assert exercise.id == "q1"
    assert exercise.checks[0].role == "grading"


def test_ids_are_stable_and_unique_when_names_repeat():
    made = assignment(("function-stub", "function-stub", "empty-cell"))
    first = [e.id for e in find_exercises(made.nb)]
    assert first == [e.id for e in find_exercises(made.nb)]
    assert first == ["add", "add-2", "question-8"]


def test_two_stubs_in_one_cell_take_the_checks_that_name_them():
    nb = new_notebook(
        cells=[
            new_markdown_cell("## Exercise 1"),
            new_code_cell("def f(x):\n    pass\n\ndef g(x):\n    ...\n"),
            new_code_cell("assert f(1) == 1"),
            new_code_cell("assert g(1) == 2"),
        ]
    )
    f, g = find_exercises(nb)
    assert (f.id, f.check_cells, f.instruction_cells) == ("f", (2,), (0,))
    assert (g.id, g.check_cells, g.instruction_cells) == ("g", (3,), (0,))


def test_stubs_that_are_not_exercises_are_left_alone():
    nb = new_notebook(
        cells=[
            new_code_cell(
                "from typing import Protocol\nfrom abc import abstractmethod\n\n"
                "class Shape(Protocol):\n    def area(self) -> float:\n        ...\n\n"
                "class Base:\n    @abstractmethod\n    def run(self):\n        pass\n\n"
                "def one_liner(): pass\n"
            ),
            new_code_cell("x = 1", metadata={"editable": False}),
        ]
    )
    assert find_exercises(nb) == []


def test_an_empty_cell_after_plain_text_is_not_an_exercise():
    nb = new_notebook(cells=[new_markdown_cell("Some notes."), new_code_cell("")])
    assert find_exercises(nb) == []


def test_instruction_images_attachments_data_uris_files_and_outputs(tmp_path):
    (tmp_path / "figure.png").write_bytes(png(4, 4))
    pixel = b64(png(2, 2))
    markdown = new_markdown_cell(
        f"## Exercise 1\n![diagram](attachment:diagram.png)\n![inline](data:image/png;base64,{pixel})\n"
        "![local](figure.png)\n![remote](https://example.invalid/x.png)"
    )
    markdown["attachments"] = {"diagram.png": {"image/png": pixel}}
    plot = new_code_cell(
        "plot()",
        outputs=[new_output("display_data", data={"image/png": pixel, "text/plain": "<Figure>"})],
    )
    nb = new_notebook(
        cells=[markdown, plot, new_code_cell("def f():\n    pass"), new_code_cell("assert f()")]
    )
    [exercise] = find_exercises(nb, tmp_path)
    assert exercise.instruction_cells == (0, 1)
    assert sorted(i.origin for i in exercise.images) == ["attachment", "data-uri", "file", "output"]
    assert {i.mime for i in exercise.images} == {"image/png"}
    assert all(i.data.startswith(b"\x89PNG") for i in exercise.images)


def test_exercises_round_trip_through_json():
    for exercise in find_exercises(assignment().nb):
        assert Exercise.from_json(exercise.to_json()) == exercise


def test_exercise_map_names_checks_and_cells_after_answers():
    made = assignment(("nbgrader", "solution-markers"))
    found = find_exercises(made.nb)
    mapping = ExerciseMap.from_exercises(found)
    assert mapping.locate(found[0].check_cells[0]) == ("squares", "grading")
    assert mapping.locate(found[1].answer_cells[0]) == ("cube", "answer")
    assert mapping.locate(1) == (None, "outside any exercise")


@given(st.text(max_size=40))
def test_slugs_are_valid_ids_or_empty(text):
    slug = slugify(text)
    assert slug == "" or ID_PATTERN.match(slug)


@given(
    st.sampled_from(["Exercise", "Question", "Task", "Problem", "Q"]),
    st.integers(0, 99),
    st.integers(0, 9),
)
def test_heading_names_are_valid_ids(word, major, minor):
    name = heading_name(f"### {word} {major}.{minor}: do something")
    prefix = "q" if word.lower() == "q" else f"{word.lower()}-"  # Q3 is q3, as the author wrote it
    assert name == f"{prefix}{major}-{minor}"
    assert ID_PATTERN.match(name)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(STYLES), min_size=1, max_size=6))
def test_any_sequence_of_styles_is_found_in_order_with_unique_valid_ids(styles):
    made = assignment(tuple(styles))
    found = find_exercises(made.nb)
    assert [e.style for e in found] == list(styles)
    ids = [e.id for e in found]
    assert len(set(ids)) == len(ids)
    assert all(ID_PATTERN.match(i) for i in ids)
    for exercise, style in zip(found, styles, strict=True):
        assert exercise.check_cells, f"{style}: its check was not found"
