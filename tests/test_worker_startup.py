"""What an xdist worker's start skips: the report's modules, jsonschema, and a schema check done already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.execution.isolation import ExecutionRequest, ProcessTemplate
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


def _written(path):
    """Whether ``path`` holds something yet (a file is created before its text is written)."""
    try:
        return path.read_text() != ""
    except FileNotFoundError:
        return False


def _wait_for(path, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not _written(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _written(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "zombie" in status.read_text())


@pytest.mark.parametrize("execute", [True, False], ids=["then-executes", "closed-unused"])
def test_a_launched_template_preloads_before_any_execution(tmp_path, execute):
    marker = tmp_path / "preloaded"
    (tmp_path / "marker_module.py").write_text(
        f"import os\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
    )
    (tmp_path / "main.py").write_text("def run(p):\n    return {'n': p['n']}\n")
    template = ProcessTemplate(preload=["marker_module"], sys_path=[str(tmp_path)])
    try:
        template.launch()
        assert _wait_for(marker), "launch() started no template"
        pid = int(marker.read_text())
        if execute:
            request = ExecutionRequest(
                tmp_path, "main.py", {"n": 3}, tmp_path / "r.pickle", tmp_path / "log"
            )
            outcome = template.execute(request)
            assert (outcome.status, outcome.result.get("outputs")) == ("ok", {"n": 3})
            assert template.preloaded == ["marker_module"]
    finally:
        template.close()
    assert not _alive(pid)


@pytest.mark.parametrize("execute", [True, False], ids=["after-an-execution", "unused"])
def test_a_closed_template_exits_without_finalising_its_preloaded_modules(tmp_path, execute):
    """Tearing down torch or scikit-learn takes seconds; the template skips it (nothing needs it)."""
    marker, finalised = tmp_path / "preloaded", tmp_path / "finalised"
    (tmp_path / "slow_teardown.py").write_text(
        "import atexit, os, pathlib, time\n"
        "def _teardown():\n"
        f"    pathlib.Path({str(finalised)!r}).write_text('ran')\n"
        "    time.sleep(30)\n"
        "atexit.register(_teardown)\n"
        f"pathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
    )
    (tmp_path / "main.py").write_text("def run(p):\n    return {'n': 1}\n")
    template = ProcessTemplate(preload=["slow_teardown"], sys_path=[str(tmp_path), *sys.path])
    try:
        if execute:
            request = ExecutionRequest(
                tmp_path, "main.py", {}, tmp_path / "r.pickle", tmp_path / "log"
            )
            assert template.execute(request).status == "ok"
        else:
            template.launch()
        assert _wait_for(marker), "no template preloaded the module"
        pid = int(marker.read_text())
    finally:
        template.close()
    assert not _alive(pid)
    assert not finalised.exists(), "the template ran its modules' exit handlers"
