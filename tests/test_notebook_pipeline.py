"""The processor end to end: input/ in; output/, done/ and state.json out; resumable, idempotent."""

from __future__ import annotations

import io
import json
import re
import shutil

import nbformat
import pytest
from notebook_helpers import assignment, snippets, solutions_folder, warm_kernel_pool

from pytest_iterbench.notebook.cli import main
from pytest_iterbench.notebook.parse import find_exercises
from pytest_iterbench.notebook.pipeline import Pipeline, PipelineOptions

SMALL = ("function-stub", "empty-cell")

kernel_pool = pytest.fixture(scope="module", name="kernel_pool")(warm_kernel_pool)


def make_workspace(root, styles=None, *, wrong=()):
    made = assignment(styles) if styles else assignment()
    made.write(root / "input" / "hw1.ipynb")
    solutions_folder(root / "solutions", styles or tuple(made.placed), wrong=wrong)
    return made


def state(root):
    return json.loads((root / "state.json").read_text())["notebooks"]


def run_pipeline(root, pool, **options):
    out = io.StringIO()
    summary = Pipeline(PipelineOptions(root / "input", **options), pool=pool, out=out).run()
    return summary, out.getvalue()


def test_a_run_completes_exports_archives_and_a_second_run_does_nothing(tmp_path, capsys):
    made = make_workspace(tmp_path)
    original = (tmp_path / "input" / "hw1.ipynb").read_bytes()
    assert main(["run", str(tmp_path / "input"), "--cell-timeout", "30"]) == 0
    printed = capsys.readouterr().out
    for step in ("parse", "solve", "build", "validate", "export", "archive"):
        assert f"  {step:<9} ok" in printed
    assert "size " in printed
    assert " -> ipynb " in printed
    completed = nbformat.read(str(tmp_path / "output" / "hw1_completed.ipynb"), as_version=4)
    answers = {c for e in find_exercises(made.nb) for c in e.answer_cells}
    assert completed.metadata == made.nb.metadata
    for index, (before, after) in enumerate(zip(made.nb.cells, completed.cells, strict=True)):
        assert (after.source == before.source) is (index not in answers), f"cell {index}"
    html = (tmp_path / "output" / "hw1_completed.html").read_text()
    assert "squares" in html
    assert "<html" in html
    assert (tmp_path / "done" / "hw1.ipynb").read_bytes() == original
    assert list((tmp_path / "input").iterdir()) == []
    [entry] = state(tmp_path).values()
    assert entry["status"] == "done"
    assert list(entry["finished"]) == ["parse", "solve", "build", "validate", "export", "archive"]

    assert main(["run", str(tmp_path / "input")]) == 0
    assert "nothing to do" in capsys.readouterr().out
    (tmp_path / "input" / "hw1.ipynb").write_bytes(original)  # the same content again
    stamp = (tmp_path / "output" / "hw1_completed.html").stat().st_mtime_ns
    assert main(["run", str(tmp_path / "input")]) == 0
    assert "already processed" in capsys.readouterr().out
    assert (tmp_path / "output" / "hw1_completed.html").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["hw1.ipynb"]


def test_a_run_killed_after_solve_resumes_at_build(tmp_path, kernel_pool):
    make_workspace(tmp_path, SMALL)

    def killed_after_solve(step, progress):
        if step == "solve":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Pipeline(
            PipelineOptions(tmp_path / "input"),
            pool=kernel_pool,
            out=io.StringIO(),
            on_step=killed_after_solve,
        ).run()
    [entry] = state(tmp_path).values()
    assert (entry["status"], list(entry["finished"])) == ("running", ["parse", "solve"])
    summary, printed = run_pipeline(tmp_path, kernel_pool)
    assert summary.exit_code == 0
    assert "  parse     done earlier" in printed
    assert "  solve     done earlier" in printed
    assert "  build     ok" in printed
    assert (tmp_path / "done" / "hw1.ipynb").is_file()


def test_a_wrong_solution_fails_naming_the_exercise_and_the_fix_resumes_at_solve(
    tmp_path, kernel_pool
):
    make_workspace(tmp_path, SMALL, wrong=("empty-cell",))
    summary, printed = run_pipeline(tmp_path, kernel_pool)
    assert summary.exit_code == 1
    assert "validate  FAILED" in printed
    assert "exercise 'question-8': check failed" in printed
    assert (tmp_path / "input" / "hw1.ipynb").is_file()
    assert not (tmp_path / "done").exists()
    [entry] = state(tmp_path).values()
    assert (entry["status"], entry["error"]["step"], entry["error"]["exercise_id"]) == (
        "failed",
        "validate",
        "question-8",
    )

    solutions_folder(tmp_path / "solutions", SMALL)  # the user fixes the answer
    summary, printed = run_pipeline(tmp_path, kernel_pool)
    assert summary.exit_code == 0
    assert "  parse     done earlier" in printed
    assert "  solve     ok" in printed


def test_alternatives_are_benchmarked_by_the_harness_and_the_best_is_kept(tmp_path, kernel_pool):
    make_workspace(tmp_path, SMALL)
    (tmp_path / "solutions" / "add.py").unlink()
    folder = tmp_path / "solutions" / "add"
    folder.mkdir()
    (folder / "minus.py").write_text("return a - b\n")  # fails the check
    (folder / "plus.py").write_text("return a + b\n")
    summary, printed = run_pipeline(
        tmp_path, kernel_pool, alternatives=3, metrics=("checks_passed",)
    )
    assert summary.exit_code == 0, printed
    assert "kept add: plus" in printed
    elapsed = r"\(\d+\.\d s\)"  # the files solver costs nothing: no "so far"
    for line in (  # each notebook, each exercise, each attempt, as it happens
        r"\[1/1\] hw1.ipynb \(sha256 [0-9a-f]{8}\)",
        rf"    exercise  1/2 add: 2 solution\(s\) \(minus, plus\) {elapsed}",
        rf"    exercise  2/2 question-8: 1 solution\(s\) \(default\) {elapsed}",
        rf"    benchmark 2 alternative\(s\) of 1 exercise\(s\) through the harness by checks_passed {elapsed}",
        rf"    kept      add: plus \(minus: checks_passed 0; plus: checks_passed 1\) {elapsed}",
        rf"  attempt   1/1 validating hw1.ipynb through nbmake {elapsed}",
        rf"  attempt   1/1 passed {elapsed}",
    ):
        assert re.search(f"^{line}$", printed, re.MULTILINE), (line, printed)
    bench = next((tmp_path / ".iterbench" / "notebooks").iterdir()) / "bench"
    records = json.loads((bench / "results.json").read_text())["results"]
    values = {r["iteration_id"]: r["value"] for r in records if r["metric_id"] == "checks_passed"}
    assert values == {"add.minus": 0.0, "add.plus": 1.0}
    completed = (tmp_path / "output" / "hw1_completed.ipynb").read_text()
    assert "return a + b" in completed
    assert "return a - b" not in completed
    report = (tmp_path / "output" / "hw1_comparison_report.md").read_text()
    assert "add.plus" in report
    assert "add.minus" in report


def test_the_claude_api_solver_without_a_key_fails_before_touching_anything(
    tmp_path, capsys, monkeypatch
):
    make_workspace(tmp_path, SMALL)
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tmp_path / "input"), "--solver", "claude-api"]) == 2
    assert "the claude-api solver needs an API key" in capsys.readouterr().err
    assert not (tmp_path / "state.json").exists()
    assert (tmp_path / "input" / "hw1.ipynb").is_file()


def test_a_notebook_without_exercises_is_run_exported_and_archived_beside_others(
    tmp_path, kernel_pool
):
    make_workspace(tmp_path, SMALL)
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("notes")]),
        str(tmp_path / "input" / "a_notes.ipynb"),
    )
    summary, printed = run_pipeline(tmp_path, kernel_pool)
    assert list(summary.failed) == []
    assert summary.processed == ["a_notes.ipynb", "hw1.ipynb"]
    assert "no exercises: the notebook is run, exported and archived as it is" in printed
    assert "nbmake: a_notes.ipynb ran, unchecked" in printed
    assert (tmp_path / "done" / "a_notes.ipynb").is_file()


def test_exercises_command_lists_ids_styles_and_checks(tmp_path, capsys):
    made = assignment(SMALL)
    made.write(tmp_path / "hw.ipynb")
    assert main(["exercises", str(tmp_path / "hw.ipynb")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("add: function-stub; answer cell(s) ")
    assert lines[1].startswith("question-8: empty-cell")
    assert main(["exercises", str(tmp_path / "hw.ipynb"), "--json"]) == 0
    assert [e["id"] for e in json.loads(capsys.readouterr().out)] == ["add", "question-8"]


def test_an_interrupted_archive_is_finished_by_the_next_run(tmp_path, kernel_pool, monkeypatch):
    make_workspace(tmp_path, SMALL)
    import pytest_iterbench.notebook.archive as archive

    def dies_after_staging(staged, done, name):
        raise KeyboardInterrupt

    monkeypatch.setattr(archive, "_link_free_name", dies_after_staging)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(tmp_path, kernel_pool)
    monkeypatch.undo()
    assert not (tmp_path / "input" / "hw1.ipynb").exists()
    summary, printed = run_pipeline(tmp_path, kernel_pool)
    assert summary.processed == ["hw1.ipynb"], printed
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["hw1.ipynb"]
    shutil.rmtree(tmp_path / "output")
    assert snippets()  # the helpers stay importable after monkeypatching
