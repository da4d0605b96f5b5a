"""HTML export with embedded images, downscaling and de-duplication; archive; state.json."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from notebook_helpers import b64, png
from PIL import Image

from pytest_iterbench.notebook.archive import archive_input
from pytest_iterbench.notebook.errors import ArchiveError, StateError
from pytest_iterbench.notebook.export import (
    ExportOptions,
    dedupe_html_images,
    downscale_images,
    export_html,
    human_size,
)
from pytest_iterbench.notebook.state import NotebookProgress, StateStore, content_hash


def picture_notebook(big: bytes, small: bytes):
    markdown = new_markdown_cell("## Figures\n![logo](attachment:logo.png)\n![file](local.png)")
    markdown["attachments"] = {"logo.png": {"image/png": b64(big)}}
    outputs = [
        new_output("display_data", data={"image/png": b64(big), "text/plain": "<Figure>"})
        for _ in range(3)
    ]
    plot = new_code_cell("show()", outputs=outputs, execution_count=1)
    tiny = new_code_cell(
        "show_small()", outputs=[new_output("display_data", data={"image/png": b64(small)})]
    )
    return new_notebook(
        cells=[markdown, plot, tiny],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def size_of(payload: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return image.size


def test_downscaling_fits_big_images_and_leaves_sources_and_small_ones(tmp_path):
    big, small = png(1600, 800), png(40, 40)
    nb = picture_notebook(big, small)
    sources = [c.source for c in nb.cells]
    stats = downscale_images(nb, 400)
    assert (stats.images, stats.downscaled) == (5, 4)
    assert stats.bytes_after < stats.bytes_before
    assert size_of(nb.cells[1].outputs[0]["data"]["image/png"]) == (400, 200)
    assert size_of(nb.cells[0].attachments["logo.png"]["image/png"]) == (400, 200)
    assert size_of(nb.cells[2].outputs[0]["data"]["image/png"]) == (40, 40)
    assert [c.source for c in nb.cells] == sources


def test_html_embeds_every_image_and_dedupes_repeats(tmp_path):
    (tmp_path / "local.png").write_bytes(png(30, 30))
    nb = picture_notebook(png(300, 100), png(20, 20))
    plain, _ = export_html(
        nb, tmp_path / "plain.html", resources_dir=tmp_path, options=ExportOptions()
    )
    folded, removed = export_html(
        nb,
        tmp_path / "folded.html",
        resources_dir=tmp_path,
        options=ExportOptions(dedupe_images=True),
    )
    text = plain.read_text()
    assert "attachment:" not in text
    assert 'src="local.png"' not in text
    assert text.count("data:image/png;base64,") >= 5
    assert removed == 3  # the figure appears 4 times: attachment + 3 outputs
    deduped = folded.read_text()
    assert deduped.count('<use href="#ib-img-') == 4
    assert len(deduped) < len(text)


def test_dedupe_keeps_a_document_without_repeats_unchanged():
    document = f'<body><img src="data:image/png;base64,{b64(png(5, 5))}"></body>'
    assert dedupe_html_images(document) == (document, 0)


def test_the_template_is_configurable(tmp_path):
    nb = picture_notebook(png(10, 10), png(10, 10))
    lab, _ = export_html(nb, tmp_path / "lab.html", resources_dir=tmp_path, options=ExportOptions())
    basic, _ = export_html(
        nb, tmp_path / "basic.html", resources_dir=tmp_path, options=ExportOptions(template="basic")
    )
    assert "<html" in lab.read_text()
    assert "<html" not in basic.read_text()


def test_human_sizes():
    assert [human_size(n) for n in (12, 2_500, 3_400_000)] == ["12 B", "2.5 kB", "3.4 MB"]


def test_archive_moves_exactly_what_was_read_and_never_overwrites(tmp_path):
    done = tmp_path / "done"
    for number, text in enumerate(["first", "second"], start=1):
        source = tmp_path / "input" / "hw1.ipynb"
        source.parent.mkdir(exist_ok=True)
        source.write_text(text)
        archived = archive_input(source, done, content_hash(source))
        assert archived.name == ("hw1.ipynb" if number == 1 else "hw1-2.ipynb")
        assert not source.exists()
    assert (done / "hw1.ipynb").read_text() == "first"
    assert (done / "hw1-2.ipynb").read_text() == "second"
    assert not list(done.glob(".*"))


def test_a_changed_input_is_not_archived(tmp_path):
    source = tmp_path / "input" / "hw1.ipynb"
    source.parent.mkdir()
    source.write_text("as read")
    read = content_hash(source)
    source.write_text("edited meanwhile")
    with pytest.raises(ArchiveError, match="changed since it was read"):
        archive_input(source, tmp_path / "done", read)
    assert source.read_text() == "edited meanwhile"
    assert list((tmp_path / "done").iterdir()) == []


def test_state_keeps_other_keys_and_is_replaced_atomically(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"plan": "plan.json", "steps": [1, 2]}))
    store = StateStore(tmp_path)
    progress = NotebookProgress(
        "ab" * 32, "hw1.ipynb", "input/hw1.ipynb", ".iterbench/notebooks/hw1-abababab"
    )
    progress.finish("parse", 0.5, "2 exercise(s)")
    store.save(progress)
    data = json.loads((tmp_path / "state.json").read_text())
    assert (data["plan"], data["steps"]) == ("plan.json", [1, 2])
    loaded = store.load("ab" * 32)
    assert loaded is not None
    assert loaded.next_step() == "solve"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StateError, match=r"state\.json"):
        store.load("ab" * 32)
