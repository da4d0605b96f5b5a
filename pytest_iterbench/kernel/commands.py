"""The ``iterbench kernel`` commands: ``dataset``, ``train``, ``eval`` (wired into ``cli``).

::

    iterbench kernel dataset --synthetic 5000
    iterbench kernel train --max-minutes 10
    iterbench kernel eval --limit 60
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.kernel.dataset import build_dataset, read_examples
from pytest_iterbench.llm.traces import TraceStore
from pytest_iterbench.workspace.arguments import add_dir_argument, chosen_dir
from pytest_iterbench.workspace.paths import WorkspacePaths


class KernelCommandError(IterbenchError):
    """Bad input to a kernel command (names the option, the expectation and the value)."""


def add_kernel_parser(commands: Any) -> None:
    """The ``kernel`` subcommand and its three actions."""
    kernel = commands.add_parser("kernel", help="the local planner model: dataset, train, eval")
    actions = kernel.add_subparsers(dest="kernel_command", required=True)
    dataset = actions.add_parser("dataset", help="build the SFT set from traces + synthetic tasks")
    add_dir_argument(dataset, positional_alias=False)
    dataset.add_argument(
        "--synthetic", type=int, default=5000, help="generated tasks (default 5000)"
    )
    dataset.add_argument("--seed", type=int, default=0, help="the generator's seed")
    dataset.add_argument("--out", type=Path, help="default: DIR/.iterbench/kernel/dataset")
    train = actions.add_parser("train", help="LoRA fine-tuning on the CPU, bounded in time")
    add_dir_argument(train, positional_alias=False)
    train.add_argument(
        "--data", type=Path, help="the dataset folder (default: DIR/.iterbench/kernel/dataset)"
    )
    train.add_argument(
        "--out", type=Path, help="the adapter folder (default: DIR/.iterbench/kernel/adapter)"
    )
    train.add_argument(
        "--max-minutes", type=float, default=10.0, help="CPU minutes at most (default 10)"
    )
    train.add_argument(
        "--max-examples", type=int, default=2000, help="examples at most (default 2000)"
    )
    train.add_argument("--rank", type=int, default=8)
    train.add_argument("--layers", type=int, default=6, help="top blocks that get the adapter")
    train.add_argument("--lr", type=float, default=5e-3)
    train.add_argument("--no-progress", action="store_true")
    evaluate = actions.add_parser(
        "eval", help="Sullivan score of kernel, baseline (and API) on held-out tasks"
    )
    add_dir_argument(evaluate, positional_alias=False)
    evaluate.add_argument(
        "--data", type=Path, help="the dataset folder (default: DIR/.iterbench/kernel/dataset)"
    )
    evaluate.add_argument("--adapter", type=Path, help="default: the shipped adapter")
    evaluate.add_argument(
        "--limit", type=int, default=60, help="held-out tasks scored (default 60)"
    )
    evaluate.add_argument(
        "--api-limit", type=int, default=10, help="of which planned by the API when a key is set"
    )
    evaluate.add_argument("--json", type=Path, help="also write the results here")


def run_kernel_command(args: argparse.Namespace) -> int:
    """Dispatch ``iterbench kernel ACTION``; exit 0, or 2 on bad input."""
    try:
        if args.kernel_command == "dataset":
            return _dataset(args)
        if args.kernel_command == "train":
            return _train(args)
        return _eval(args)
    except KernelCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _paths(args: argparse.Namespace) -> WorkspacePaths:
    return WorkspacePaths(chosen_dir(args).resolve())


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise KernelCommandError(f"--{name}: expected a number above 0, found {value}")


def _dataset(args: argparse.Namespace) -> int:
    if args.synthetic < 0:
        raise KernelCommandError(f"--synthetic: expected 0 or more, found {args.synthetic}")
    paths = _paths(args)
    out = args.out or paths.kernel_dir / "dataset"
    manifest = build_dataset(
        out, TraceStore(paths.root).records(), synthetic=args.synthetic, seed=args.seed
    )
    if manifest["train"]["count"] == 0:
        raise KernelCommandError(
            f"{out}: no examples (no planner traces in {paths.traces_dir}, --synthetic 0)"
        )
    print(
        f"dataset: {out}: {manifest['train']['count']} train, {manifest['heldout']['count']} held out "
        f"({manifest['sources']['trace']} from traces, {manifest['sources']['synthetic']} synthetic)"
    )
    return 0


def _data_file(args: argparse.Namespace, name: str) -> Path:
    folder = args.data or _paths(args).kernel_dir / "dataset"
    path = folder / name
    if not path.is_file():
        raise KernelCommandError(
            f"--data: expected {name} in {folder} (run `iterbench kernel dataset`), found none"
        )
    return path


def _train(args: argparse.Namespace) -> int:
    for name in ("max_minutes", "max_examples", "rank", "layers", "lr"):
        _positive(name.replace("_", "-"), getattr(args, name))
    from pytest_iterbench.kernel.model import BASE_NAME, load_base
    from pytest_iterbench.kernel.train import Recipe, save_adapter, train

    path = _data_file(args, "train.jsonl")
    examples = read_examples(path)
    recipe = Recipe(
        rank=args.rank,
        alpha=2 * args.rank,
        layers=args.layers,
        learning_rate=args.lr,
        max_examples=args.max_examples,
        max_seconds=args.max_minutes * 60,
    )
    model, tokenizer = load_base()
    result = train(model, tokenizer, examples, recipe, progress=not args.no_progress)
    digest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))["train"][
        "sha256"
    ]
    out = save_adapter(
        result, args.out or _paths(args).kernel_dir / "adapter", data_sha256=digest, base=BASE_NAME
    )
    print(
        f"adapter: {out}: {result.examples_seen} examples in {result.steps} steps, "
        f"{result.cpu_seconds:.0f} CPU s; loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    _positive("limit", args.limit)
    from pytest_iterbench.kernel.evaluate import evaluate, render
    from pytest_iterbench.kernel.model import ADAPTER_DIR
    from pytest_iterbench.kernel.planner import BaselinePlanner, KernelPlanner, shared_decoder

    heldout = read_examples(_data_file(args, "heldout.jsonl"))[: args.limit]
    decoder, name = shared_decoder(args.adapter or ADAPTER_DIR)
    planners: dict[str, Any] = {
        "kernel": KernelPlanner(decoder, name),
        "baseline": BaselinePlanner(),
    }
    with tempfile.TemporaryDirectory() as root:
        results = evaluate(heldout, planners, Path(root))
        if os.environ.get("ANTHROPIC_API_KEY"):
            results += evaluate(
                heldout[: args.api_limit], {"claude-api": _api_planner(Path(root))}, Path(root)
            )
    print(render(results), end="")
    if args.json:
        args.json.write_text(
            json.dumps([r.to_json() for r in results], indent=2) + "\n", encoding="utf-8"
        )
    return 0


def _api_planner(root: Path) -> Any:
    from pytest_iterbench.llm.client import ClaudeClient
    from pytest_iterbench.llm.config import DEFAULT_MODEL, ClientConfig
    from pytest_iterbench.llm.planner import ClaudePlanner
    from pytest_iterbench.llm.secrets import resolve_api_key

    config = ClientConfig(DEFAULT_MODEL)
    return ClaudePlanner(ClaudeClient(resolve_api_key(None, dotenv_dirs=[]), config))


def kernel_planner_factory(workspace: Path, store_content: bool) -> Any:
    """``--planner kernel``: the shipped model (loaded on first use, then kept by the process)."""
    from pytest_iterbench.kernel.planner import kernel_planner

    return kernel_planner(workspace, store_content=store_content)
