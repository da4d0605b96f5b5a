"""The schema checks a session remembers: skipped for identical files only, never for a changed one."""

from __future__ import annotations

import json

import pytest

from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.workspace import files, schema_memo
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.schema_memo import SchemaMemo


def load(root):
    """Load as a session does: with the memo, saved once the workspace loaded."""
    memo = SchemaMemo(root / ".iterbench")
    loaded = Workspace.load(root, memo=memo)
    memo.save()
    return loaded


@pytest.fixture
def root(workspace):
    return workspace.iteration("v1").builtin_metrics().run("run-001").write()


@pytest.fixture
def checked(monkeypatch):
    """The kinds of file whose schema check ran, in order."""
    kinds: list[str] = []
    real = files.validate

    def counting(name, document, file):
        kinds.append(name)
        return real(name, document, file)

    monkeypatch.setattr(files, "validate", counting)
    return kinds


def _add_unknown_property(root):
    """A change only the schema refuses: runs.json's runs allow no other property."""
    path = root / "runs.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["runs"][0]["colour"] = "red"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def test_an_unchanged_workspace_is_not_checked_again(root, checked):
    load(root)
    assert checked == ["iterations", "metrics", "runs"]
    memo = json.loads((root / ".iterbench" / "schema-checks.json").read_text(encoding="utf-8"))
    assert sorted(memo) == ["iterations", "metrics", "runs"]
    again = load(root)
    assert checked == ["iterations", "metrics", "runs"], "an identical file was checked again"
    assert list(again.runs) == ["run-001"]


def test_a_changed_file_is_checked_and_its_problem_reported_every_time(root, checked):
    load(root)
    _add_unknown_property(root)
    for _ in range(2):
        with pytest.raises(WorkspaceError, match=r"runs\.json: runs\[0\].*colour"):
            load(root)
    assert checked[3:] == ["runs", "runs"], "only the changed file is checked again"


def test_without_the_memo_the_same_change_is_refused_alike(root):
    load(root)
    _add_unknown_property(root)
    with pytest.raises(WorkspaceError) as remembered:
        load(root)
    with pytest.raises(WorkspaceError) as plain:
        Workspace.load(root)
    assert str(remembered.value) == str(plain.value)


@pytest.mark.parametrize("memo", ["not json {", '["a list"]', '{"runs": 3}', ""])
def test_a_broken_memo_means_a_full_check(root, checked, memo):
    (root / ".iterbench").mkdir(exist_ok=True)
    (root / ".iterbench" / "schema-checks.json").write_text(memo, encoding="utf-8")
    load(root)
    assert checked == ["iterations", "metrics", "runs"]
    rewritten = json.loads((root / ".iterbench" / "schema-checks.json").read_text(encoding="utf-8"))
    assert sorted(rewritten) == ["iterations", "metrics", "runs"]


def test_another_jsonschema_means_a_full_check(root, checked, monkeypatch):
    load(root)
    monkeypatch.setattr(schema_memo.importlib.metadata, "version", lambda name: "0.0-other")
    schema_memo._checker_fingerprint.cache_clear()
    try:
        load(root)
    finally:
        schema_memo._checker_fingerprint.cache_clear()
    assert checked == ["iterations", "metrics", "runs"] * 2


def test_a_memo_that_cannot_be_written_costs_only_a_check(root, checked):
    (root / ".iterbench").write_text("a file where the folder should be", encoding="utf-8")
    for _ in range(2):
        load(root)
    assert checked == ["iterations", "metrics", "runs"] * 2


def test_a_session_after_a_schema_breaking_edit_is_refused(workspace, pytester):
    workspace.iteration("v1").builtin_metrics().run("run-001").write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider").assert_outcomes(passed=2)
    assert (workspace.root / ".iterbench" / "schema-checks.json").is_file()
    _add_unknown_property(workspace.root)
    result = pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*runs.json: runs[[]0[]]*colour*"])
