"""The ``iterbench`` command: validate a workspace, run, report, recover; plan, costs; orchestrate, status.

Every subcommand names the workspace with ``--dir DIR`` (default ``.``).

>>> main(["validate", "--dir", "."])  # doctest: +SKIP
workspace /path: OK (3 iterations, 6 metrics, 2 runs)
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iterbench.errors import IterbenchError, WorkspaceError
from pytest_iterbench.llm.errors import PlanInvalid
from pytest_iterbench.orchestrator.errors import StateCorrupt
from pytest_iterbench.workspace.arguments import add_dir_argument, chosen_dir

if TYPE_CHECKING:
    import httpx2

    from pytest_iterbench.results.store import ResultsStore


#: The commands of this module: they parse without the other layers' arguments.
OWN_COMMANDS = ("validate", "run", "report", "recover")


def _parser(*, own_only: bool = False) -> argparse.ArgumentParser:
    """The command line; with ``own_only``, without the subcommands of other layers.

    Building every subcommand's arguments imports the orchestrator, the LLM
    layer, the kernel, the notebook processor and the studio (about half a
    second): ``iterbench report`` and the other commands of this module skip it.
    """
    parser = argparse.ArgumentParser(
        prog="iterbench",
        description="Compare iterations of an ML task on metrics (pytest-iterbench).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate",
        help="check iterations.json, metrics.json and runs.json (schemas, cross-references)",
    )
    add_dir_argument(validate)
    run = commands.add_parser(
        "run", help="run RUN_ID through pytest (extra arguments after -- go to pytest)"
    )
    run.add_argument("run_id")
    add_dir_argument(run, positional_alias=False)
    run.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="arguments for pytest, e.g. -- -n auto"
    )
    report = commands.add_parser(
        "report", help="regenerate reports/comparison_report.md from results.json"
    )
    add_dir_argument(report)
    report.add_argument("--run", required=True, help="the run to report on")
    report.add_argument(
        "--session", help="the session to report and gate (default: the run's latest)"
    )
    report.add_argument(
        "--compare",
        metavar="SESSION",
        help="compare with an earlier session ('last' or a session id); exit 1 on a regression beyond tolerance",
    )
    recover = commands.add_parser(
        "recover", help="fold journals of interrupted sessions into results.json"
    )
    add_dir_argument(recover)
    if not own_only:
        _add_layer_parsers(commands)
    return parser


def _add_layer_parsers(commands: Any) -> None:
    from pytest_iterbench.kernel.commands import add_kernel_parser
    from pytest_iterbench.llm.commands import add_costs_parser, add_plan_parser
    from pytest_iterbench.orchestrator.commands import add_orchestrate_parsers

    _add_notebook_parser(commands)
    add_plan_parser(commands)
    add_costs_parser(commands)
    add_orchestrate_parsers(commands)
    _add_studio_parser(commands)
    add_kernel_parser(commands)


def _add_studio_parser(commands: Any) -> None:
    try:
        from pytest_iterbench.studio.server import add_studio_parser
    except ImportError:  # without the studio extra the command says what to install
        commands.add_parser("studio", help="the local web studio (needs the studio extra)")
        return
    add_studio_parser(commands)


def _studio(args: argparse.Namespace) -> int:
    try:
        from pytest_iterbench.studio.server import run_studio
    except ImportError as exc:
        print(
            f"error: iterbench studio needs the studio extra (pip install 'pytest-iterbench[studio]'): {exc}",
            file=sys.stderr,
        )
        return 1
    return run_studio(args)


def _add_notebook_parser(commands: Any) -> None:
    try:
        from pytest_iterbench.notebook import add_notebook_parser
    except ImportError:  # without the notebook extra the command says what to install
        commands.add_parser(
            "notebook", help="process assignment notebooks (needs the notebook extra)"
        )
        return
    add_notebook_parser(commands)


def _notebook(args: argparse.Namespace, http_client: httpx2.Client | None = None) -> int:
    try:
        from pytest_iterbench.notebook import run_notebook_command
    except ImportError as exc:
        print(
            f"error: iterbench notebook needs the notebook extra (pip install 'pytest-iterbench[notebook]'): {exc}",
            file=sys.stderr,
        )
        return 1
    return run_notebook_command(args, http_client)


def _validate(workspace: Path) -> int:
    from pytest_iterbench.workspace.loader import Workspace

    loaded = Workspace.load(workspace)
    print(
        f"workspace {loaded.root}: OK ({len(loaded.iterations)} iterations, {len(loaded.metrics)} metrics, {len(loaded.runs)} runs)"
    )
    return 0


def _run(run_id: str, directory: Path, pytest_args: list[str]) -> int:
    import pytest

    args = [arg for arg in pytest_args if arg != "--"]
    return int(pytest.main(["--iterbench", run_id, "--iterbench-dir", str(directory), *args]))


def _report(directory: Path, run_id: str, session: str | None, compare: str | None) -> int:
    from pytest_iterbench.report.gate import compare_stored_sessions, workspace_tolerances
    from pytest_iterbench.report.reading import load_run_samples
    from pytest_iterbench.report.writer import REPORT_PATH, write_reports
    from pytest_iterbench.results.store import ResultsStore
    from pytest_iterbench.workspace.loader import Workspace

    workspace = Workspace.load(directory)
    run = workspace.run(run_id)
    store = ResultsStore(workspace.root)
    session = session or store.latest_session(run.id)
    samples = load_run_samples(store, run.id, session)
    paths = write_reports(
        workspace.root,
        samples,
        run.id,
        iteration_order=run.iteration_ids,
        metric_order=run.metric_ids,
        session_id=session,
    )
    _warn(store)
    print(f"report: {workspace.root / REPORT_PATH} (+ {len(paths) - 1} files)")
    if compare is None:
        return 0
    if session is None:
        raise IterbenchError(f"run {run.id!r}: no records in {workspace.results_path} to compare")
    gate = compare_stored_sessions(
        store, run.id, session, compare, workspace_tolerances(workspace.metrics)
    )
    print("\n".join(gate.summary_lines()))
    return 0 if gate.ok else 1


def _warn(store: ResultsStore) -> None:
    for warning in dict.fromkeys(store.warnings):
        print(f"warning: {warning}", file=sys.stderr)


def _recover(directory: Path) -> int:
    from pytest_iterbench.results.store import ResultsStore

    store = ResultsStore(directory.resolve())
    count = store.recover()
    _warn(store)
    print(f"recovered {count} records into {store.path}")
    return 0


def main(argv: Sequence[str] | None = None, *, http_client: httpx2.Client | None = None) -> int:
    """Entry point of the ``iterbench`` console script; returns the exit status.

    ``http_client`` is for tests: the Claude API client sends through it.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    own_only = bool(arguments) and arguments[0] in OWN_COMMANDS
    args = _parser(own_only=own_only).parse_args(arguments)
    try:
        if args.command not in OWN_COMMANDS:
            return _layer_command(args, http_client)
        if args.command == "validate":
            return _validate(chosen_dir(args))
        if args.command == "run":
            return _run(args.run_id, chosen_dir(args), args.pytest_args)
        if args.command == "report":
            return _report(chosen_dir(args), args.run, args.session, args.compare)
        return _recover(chosen_dir(args))
    except (WorkspaceError, PlanInvalid, StateCorrupt) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except IterbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _layer_command(args: argparse.Namespace, http_client: httpx2.Client | None) -> int:
    """Run a subcommand of another layer (notebook, plan, costs, orchestrate, status, studio, kernel)."""
    from pytest_iterbench.kernel.commands import kernel_planner_factory, run_kernel_command
    from pytest_iterbench.llm.commands import run_costs, run_plan
    from pytest_iterbench.orchestrator.commands import run_orchestrate, run_status

    if args.command == "notebook":
        return _notebook(args, http_client)
    if args.command == "plan":
        return run_plan(args, http_client, {"kernel": kernel_planner_factory})
    if args.command == "kernel":
        return run_kernel_command(args)
    if args.command == "costs":
        return run_costs(args)
    if args.command == "orchestrate":
        return run_orchestrate(args, http_client)
    if args.command == "status":
        return run_status(args)
    return _studio(args)
