"""The ``iterbench plan`` and ``iterbench costs`` commands (wired into ``pytest_iterbench.cli``).

::

    iterbench plan "Classify handwritten digits" -o plan.json
    iterbench plan --notebook assignment.ipynb --planner claude-api --apply
    iterbench plan --planner manual --plan plan.json --apply
    iterbench costs --by role,model,day
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.llm.apply import apply_plan
from pytest_iterbench.llm.config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_SECONDS,
    EFFORTS,
    ClientConfig,
)
from pytest_iterbench.llm.costs import GROUPS, GroupBy, render_costs, summarise
from pytest_iterbench.llm.errors import LlmError
from pytest_iterbench.llm.plan import Plan
from pytest_iterbench.llm.planner import (
    PLANNER_MODES,
    ClaudePlanner,
    Planner,
    PlannerFactory,
    load_manual_plan,
    local_planner,
)
from pytest_iterbench.llm.secrets import KEY_WARNING, resolve_api_key
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.workspace.arguments import add_dir_argument, chosen_dir

if TYPE_CHECKING:
    import httpx2


def add_plan_parser(commands: Any) -> None:
    """The ``plan`` subcommand and its planner options."""
    plan = commands.add_parser(
        "plan", help="turn a description or an assignment notebook into plan.json"
    )
    plan.add_argument("description", nargs="?", help="the task, as text")
    plan.add_argument("--notebook", type=Path, help="plan from this assignment notebook instead")
    plan.add_argument(
        "--planner",
        choices=PLANNER_MODES,
        help="manual | claude-api | kernel (default: claude-api)",
    )
    plan.add_argument(
        "--claude-api", action="store_true", help="alias of --planner claude-api (the seed's flag)"
    )
    plan.add_argument("--claude-api-key", help="API key (warns: it ends up in shell history)")
    plan.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"Claude model (default: {DEFAULT_MODEL})"
    )
    plan.add_argument(
        "--max-retries",
        type=int,
        default=DEFAULT_MAX_RETRIES,
        help="SDK retries on 429/529/5xx/timeouts",
    )
    plan.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds per HTTP attempt"
    )
    plan.add_argument(
        "--effort",
        choices=EFFORTS,
        help="thinking effort (default: the model's); output tokens cost most",
    )
    plan.add_argument(
        "--no-trace-content",
        action="store_true",
        help="trace tokens and costs, not prompts and answers",
    )
    plan.add_argument(
        "--plan", type=Path, help="manual: the plan file to check (default: DIR/plan.json)"
    )
    plan.add_argument(
        "-o", "--output", type=Path, help="where to write the plan (default: DIR/plan.json)"
    )
    add_dir_argument(plan, positional_alias=False)
    plan.add_argument(
        "--apply", action="store_true", help="merge the plan into the workspace's JSON files"
    )


def add_costs_parser(commands: Any) -> None:
    """The ``costs`` subcommand."""
    costs = commands.add_parser("costs", help="sum the LLM trace by role, model and day")
    add_dir_argument(costs)
    costs.add_argument(
        "--by", default="role,model,day", help=f"comma-separated, of: {', '.join(GROUPS)}"
    )


def run_costs(args: argparse.Namespace) -> int:
    by = [part.strip() for part in args.by.split(",") if part.strip()]
    unknown = [part for part in by if part not in GROUPS]
    if unknown or not by:
        print(
            f"error: --by: expected some of {', '.join(GROUPS)}, found {args.by!r}", file=sys.stderr
        )
        return 2
    groups = cast(list[GroupBy], by)  # checked just above
    store = TraceStore(chosen_dir(args).resolve())
    rows = summarise(store.records(), groups)
    if not rows:
        print(f"no LLM calls traced in {store.directory}")
        return 0
    print(render_costs(rows, groups), end="")
    return 0


def run_plan(
    args: argparse.Namespace,
    http_client: httpx2.Client | None = None,
    local: Mapping[str, PlannerFactory] | None = None,
) -> int:
    """``iterbench plan``; ``local`` maps local modes (``kernel``) to their planner factories."""
    mode = _mode(args)
    root = chosen_dir(args).resolve()
    with _warnings_to_stderr():
        if mode == "manual":
            plan = load_manual_plan(args.plan or root / "plan.json", root)
        else:
            plan = _planner(mode, args, root, http_client, local or {}).plan(_task(args), root)
            _write_plan(plan, args.output or root / "plan.json")
    _summary(plan)
    if args.apply:
        applied = apply_plan(plan, root)
        added = ", ".join(f"{len(ids)} {kind}" for kind, ids in applied.added.items())
        print(f"applied to {root}: added {added}")
    return 0


def _mode(args: argparse.Namespace) -> str:
    if args.claude_api and args.planner not in (None, "claude-api"):
        raise LlmError(f"--claude-api contradicts --planner {args.planner}")
    mode: str = args.planner or "claude-api"
    if mode != "manual" and not (args.description or args.notebook):
        raise LlmError(f"--planner {mode} needs a DESCRIPTION or --notebook PATH")
    if mode == "manual" and (args.description or args.notebook):
        raise LlmError("--planner manual checks a plan file (--plan); it takes no description")
    return mode


def _task(args: argparse.Namespace) -> PlanTask:
    if args.notebook is not None:
        return PlanTask.from_notebook(args.notebook)
    return PlanTask.from_description(args.description)


def _planner(
    mode: str,
    args: argparse.Namespace,
    root: Path,
    http_client: httpx2.Client | None,
    local: Mapping[str, PlannerFactory],
) -> Planner:
    if mode != "claude-api":
        return local_planner(mode, local, root, not args.no_trace_content)
    try:
        from pytest_iterbench.llm.client import ClaudeClient  # the llm extra, only when used
    except ImportError as exc:
        raise LlmError(
            f"the claude-api planner needs the llm extra ({exc.name} is missing): "
            "pip install 'pytest-iterbench[llm]'"
        ) from None
    if args.claude_api_key:
        print(KEY_WARNING, file=sys.stderr)
    key = resolve_api_key(args.claude_api_key, dotenv_dirs=[root, Path.cwd()])
    config = ClientConfig(args.model, args.max_retries, args.timeout, effort=args.effort)
    traces = TraceStore(root, store_content=not args.no_trace_content)
    return ClaudePlanner(ClaudeClient(key, config, traces=traces, http_client=http_client))


def _write_plan(plan: Plan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n")
    print(f"plan: {path}")


def _summary(plan: Plan) -> None:
    for kind in ("iterations", "metrics", "runs"):
        print(f"{kind}: {', '.join(e['id'] for e in plan.entries(kind)) or 'none'}")
    if plan.cost is not None:
        usd = plan.cost["cost_usd"]
        cost = "unknown (model not in the price table)" if usd is None else _usd(usd)
        print(
            f"cost: {cost} for {plan.cost['calls']} call(s): {plan.cost['input_tokens']:,} input, "
            f"{plan.cost['cache_read_input_tokens']:,} cache-read, {plan.cost['output_tokens']:,} output tokens"
        )


def _usd(usd: float) -> str:
    """Four decimals, or six for a local planner's fractions of a cent."""
    return f"${usd:.4f}" if usd >= 0.0001 or usd == 0 else f"${usd:.6f}"


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show the layer's warnings (an unpriced model) as plain ``warning:`` lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
