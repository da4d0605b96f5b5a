"""What an xdist worker's start skips: the report's modules, jsonschema, and a schema check done already."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.workspace.loader import Workspace


def test_the_plugin_imports_neither_the_report_nor_jsonschema_nor_sklearn():
    script = (
        "import sys, pytest_iterbench.plugin\n"
        "print(sorted(m for m in ('jsonschema', 'sklearn', 'matplotlib', 'pytest_iterbench.report',"
        " 'pytest_iterbench.api') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_still_exports_its_names():
    import pytest_iterbench

    for name in pytest_iterbench.__all__:
        assert getattr(pytest_iterbench, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        pytest_iterbench.no_such_name  # noqa: B018


def test_a_schema_checked_load_equals_a_checked_one(workspace):
    root = workspace.iteration("a").builtin_metrics().run().write()
    trusted, checked = Workspace.load(root, schema_checked=True), Workspace.load(root)
    assert (trusted.iterations, trusted.metrics, trusted.runs) == (
        checked.iterations,
        checked.metrics,
        checked.runs,
    )


@pytest.mark.parametrize(
    "broken",
    [{"runs": [{"id": "r"}]}, {"runs": "not a list"}],
    ids=["missing-fields", "wrong-type"],
)
def test_a_file_changed_since_the_check_gets_the_checked_error(workspace, broken):
    root = workspace.iteration("a").builtin_metrics().run().write()
    (root / "runs.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(WorkspaceError) as checked:
        Workspace.load(root)
    with pytest.raises(WorkspaceError) as trusted:
        Workspace.load(root, schema_checked=True)
    assert str(trusted.value) == str(checked.value)
