"""The ``iterbench`` command's own subcommands: what they import, and a workspace that never ran."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pytest_iterbench.cli import main

#: Modules of other layers (and pytest) that validate, report and recover do not need.
OTHER_LAYERS = (
    "pytest",
    "uvicorn",
    "pytest_iterbench.kernel.commands",
    "pytest_iterbench.llm.commands",
    "pytest_iterbench.llm.planner",
    "pytest_iterbench.notebook.cli",
    "pytest_iterbench.orchestrator.commands",
    "pytest_iterbench.orchestrator.pipeline",
    "pytest_iterbench.studio.server",
)


def _imported_by(arguments: list[str]) -> tuple[int, list[str]]:
    """Run ``iterbench ARGUMENTS`` in a fresh interpreter: its status and the other layers it imported."""
    script = (
        "import json, sys\n"
        "from pytest_iterbench.cli import main\n"
        f"status = main({arguments!r})\n"
        f"print(json.dumps([status, sorted(m for m in {OTHER_LAYERS!r} if m in sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    status, imported = json.loads(out.stdout.splitlines()[-1])
    return status, imported


@pytest.fixture
def never_ran(workspace):
    workspace.iteration("v1").builtin_metrics().run("run-001").write()
    return workspace


@pytest.mark.parametrize(
    "command",
    [["validate"], ["report", "--run", "run-001"], ["recover"]],
    ids=["validate", "report", "recover"],
)
def test_an_own_subcommand_imports_no_other_layer(never_ran, command):
    status, imported = _imported_by([command[0], "--dir", str(never_ran.root), *command[1:]])
    assert status == 0
    assert imported == []


def test_help_still_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listed = capsys.readouterr().out
    for command in ("validate", "report", "notebook", "plan", "costs", "orchestrate", "status"):
        assert f"    {command} " in listed


def test_a_subcommand_of_another_layer_still_parses_and_runs(never_ran, capsys):
    assert main(["status", "--dir", str(never_ran.root)]) == 1
    assert "no orchestration" in capsys.readouterr().out.lower()


def test_report_of_a_workspace_that_never_ran_says_so(never_ran, capsys):
    assert not (never_ran.root / "results.json").exists()
    assert main(["report", "--dir", str(never_ran.root), "--run", "run-001"]) == 0
    report = (never_ran.root / "reports" / "comparison_report.md").read_text(encoding="utf-8")
    assert "No results for run `run-001` in results.json yet." in report
    assert "comparison_report.md" in capsys.readouterr().out
