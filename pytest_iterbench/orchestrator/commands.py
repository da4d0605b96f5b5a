"""The ``iterbench orchestrate`` and ``iterbench status`` commands (wired into ``pytest_iterbench.cli``).

::

    iterbench orchestrate --planner manual --plan plan.json --dir ws --git
    iterbench orchestrate "compare logistic regression and a small MLP on digits" \\
        --planner claude-api --git --git-push origin
    iterbench orchestrate --resume --dir ws
    iterbench status --dir ws [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_iterbench.kernel.commands import kernel_planner_factory
from pytest_iterbench.llm.config import DEFAULT_MODEL, ClientConfig
from pytest_iterbench.llm.errors import LlmError
from pytest_iterbench.llm.planner import PLANNER_MODES, ClaudePlanner, Planner
from pytest_iterbench.llm.secrets import resolve_api_key
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.orchestrator.errors import OrchestrationError
from pytest_iterbench.orchestrator.models import ModelRoles
from pytest_iterbench.orchestrator.pipeline import Options, Orchestrator
from pytest_iterbench.orchestrator.state import PlannerName, StateFile
from pytest_iterbench.orchestrator.status import render_status, status_json
from pytest_iterbench.workspace.arguments import add_dir_argument, chosen_dir

if TYPE_CHECKING:
    import httpx2

    from pytest_iterbench.llm.messages import MessageSender


def add_orchestrate_parsers(commands: Any) -> None:
    """The ``orchestrate`` and ``status`` subcommands."""
    parser = commands.add_parser(
        "orchestrate", help="plan, implement, benchmark, review, report, persist: resumable"
    )
    parser.add_argument("description", nargs="?", help="the task, as text")
    parser.add_argument("--notebook", type=Path, help="the task is this assignment notebook")
    parser.add_argument(
        "--plan",
        type=Path,
        help="the task is this plan (default with --planner manual: DIR/plan.json)",
    )
    parser.add_argument(
        "--planner",
        choices=PLANNER_MODES,
        help="manual | claude-api | kernel (default: manual with no description)",
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"Claude model (default: {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="review rounds per failure (default 2)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="xdist workers of the benchmark step (pytest -n N; default 0: one process)",
    )
    parser.add_argument("--git", action="store_true", help="commit the workspace after every step")
    parser.add_argument(
        "--git-push", metavar="REMOTE", help="push after every commit (implies --git)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the orchestration state.json records"
    )
    add_dir_argument(parser, positional_alias=False)
    status = commands.add_parser("status", help="where the orchestration stands, from state.json")
    add_dir_argument(status, positional_alias=False)
    status.add_argument("--json", action="store_true", help="the state and a summary, as JSON")


def run_status(args: argparse.Namespace) -> int:
    state = StateFile(chosen_dir(args).resolve())
    orchestration = state.load()
    if orchestration is None:
        print(f"no orchestration in {state.path}")
        return 1
    if args.json:
        print(json.dumps(status_json(orchestration), indent=2))
    else:
        print(render_status(orchestration), end="")
    return 0


def run_orchestrate(args: argparse.Namespace, http_client: httpx2.Client | None = None) -> int:
    root = chosen_dir(args).resolve()
    options = _options(args, root)
    if options.workers < 0:
        raise OrchestrationError(f"--workers: expected 0 or more, found {options.workers}")
    if options.rounds < 0:
        raise OrchestrationError(f"--rounds: expected 0 or more, found {options.rounds}")
    roles, planner = _models(options.planner, args, root, http_client)
    try:
        orchestration = Orchestrator(options, roles, planner).run()
    except KeyboardInterrupt:
        print(
            f"interrupted: {StateFile(root).path} keeps every step that finished; "
            "`iterbench orchestrate --resume` continues",
            file=sys.stderr,
        )
        return 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
    print(
        f"orchestration finished: {len(orchestration.steps)} steps, cost ${orchestration.cost_usd:.4f}"
    )
    return 0


def _options(args: argparse.Namespace, root: Path) -> Options:
    found = StateFile(root).load() if args.resume else None
    task: dict[str, Any] = found.task if found else {}
    chosen = args.planner or ("claude-api" if args.description or args.notebook else "manual")
    planner: PlannerName = found.planner if found else cast(PlannerName, chosen)
    if planner == "manual" and args.description:
        raise OrchestrationError(
            "--planner manual runs a plan file (--plan) or a notebook's own steps "
            "(--notebook); it takes no description"
        )
    if planner != "manual" and not (args.description or args.notebook or found):
        raise OrchestrationError(f"--planner {planner} needs a DESCRIPTION or --notebook PATH")
    path = root / task["path"] if "path" in task else None
    return Options(
        root=root,
        description=args.description or task.get("description"),
        notebook=args.notebook or (path if task.get("kind") == "notebook" else None),
        plan=args.plan or (path if task.get("kind") == "plan" else None),
        planner=planner,
        git=bool(args.git or args.git_push),
        push=args.git_push,
        resume=bool(args.resume),
        rounds=args.rounds,
        workers=args.workers,
    )


def _models(
    mode: str, args: argparse.Namespace, root: Path, http_client: httpx2.Client | None
) -> tuple[ModelRoles | None, Planner | None]:
    if mode == "manual":
        return None, None
    if mode == "kernel":  # the local model: no key, no network; its traces keep no prompt text
        planner: Planner = kernel_planner_factory(root, False)
        return None, planner
    key = resolve_api_key(None, dotenv_dirs=[root, Path.cwd()])  # ApiKeyMissing now, not mid-way

    def sender() -> MessageSender:
        try:
            from pytest_iterbench.llm.client import ClaudeClient
        except ImportError as exc:
            raise LlmError(f"claude-api needs the llm extra ({exc.name} is missing)") from None
        return ClaudeClient(
            key, ClientConfig(args.model), traces=TraceStore(root), http_client=http_client
        )

    roles = ModelRoles(sender)
    return roles, ClaudePlanner(roles.meter)
