"""``iterbench notebook``: run the processor, validate notebooks, list exercises.

Wired into the ``iterbench`` command by ``add_notebook_parser`` and
``run_notebook_command``; also runnable alone as ``python -m pytest_iterbench.notebook``.

.. code-block:: bash

    iterbench notebook run input/ --solutions solutions/ [--alternatives 3 --metric checks_passed --metric exec_time]
    iterbench notebook validate output/hw1_completed.ipynb other.ipynb --jobs 2
    iterbench notebook exercises input/hw1.ipynb

Exit status: 0 when everything passed, 1 when a notebook failed, 2 on a
configuration error (an unknown or unconfigured solver, a missing folder).
"""

# The commands import their machinery (nbconvert, nbclient, Jupyter clients) when they run:
# building the parser, as ``iterbench --help`` does, must stay cheap.

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_iterbench.llm.secrets import KEY_WARNING
from pytest_iterbench.notebook.defaults import (
    BUILTIN_METRICS,
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_KERNEL,
    DEFAULT_METRICS,
    SOLVER_NAMES,
)
from pytest_iterbench.notebook.errors import (
    KernelMissing,
    NotebookProcessorError,
    NotebookReadError,
    SolverNotConfigured,
)
from pytest_iterbench.workspace.arguments import add_dir_argument


def _seconds(text: str) -> float | None:
    value = float(text)
    return None if value <= 0 else value


def _add_execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell-timeout", type=_seconds, default=DEFAULT_CELL_TIMEOUT,
        help=f"seconds a cell may run, 0 for no limit (default: {DEFAULT_CELL_TIMEOUT:g})",
    )  # fmt: skip
    parser.add_argument(
        "--kernel",
        default=None,
        help=f"Jupyter kernel to run notebooks on (default: each notebook's kernelspec, else {DEFAULT_KERNEL})",
    )


def _add_run_parser(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="process every notebook of INPUT: parse, solve, build, validate, export, archive",
    )
    run.add_argument("input", type=Path, help="the folder of assignment notebooks (input/)")
    add_dir_argument(
        run,
        default=None,
        positional_alias=False,
        help="workspace: where output/, done/ and state.json go (default: INPUT's parent)",
    )
    run.add_argument(
        "--solver", choices=SOLVER_NAMES, default="files", help="who solves the exercises"
    )
    run.add_argument(
        "--solutions",
        type=Path,
        help="files solver: folder or JSON of solutions (default: WORKSPACE/solutions)",
    )
    run.add_argument(
        "--max-attempts", type=int, default=3, metavar="K",
        help="claude-api: validations per notebook, the reviewer loop's included (default: 3)",
    )  # fmt: skip
    run.add_argument("--model", help="claude-api: the Claude model (default: the LLM layer's)")
    run.add_argument(
        "--claude-api-key",
        help="claude-api: the key (prefer ANTHROPIC_API_KEY or a .env file: this ends up in history)",
    )
    run.add_argument(
        "--alternatives",
        type=int,
        default=1,
        metavar="N",
        help="solutions per exercise to benchmark",
    )
    run.add_argument(
        "--metric", action="append", choices=sorted(BUILTIN_METRICS), dest="metrics",
        help=f"judge alternatives by these metrics, in order (default: {' '.join(DEFAULT_METRICS)})",
    )  # fmt: skip
    _add_execution_options(run)
    run.add_argument(
        "--template", default="lab", help="nbconvert HTML template name or folder (default: lab)"
    )
    run.add_argument(
        "--max-image-px", type=int, metavar="PX", help="downscale images larger than PX pixels"
    )
    run.add_argument(
        "--dedupe-images", action="store_true", help="store repeated images once in the HTML"
    )


def add_notebook_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``notebook`` (with ``run``, ``validate``, ``exercises``) to an ``add_subparsers()`` object."""
    notebook: argparse.ArgumentParser = subparsers.add_parser(
        "notebook", help="the notebook processor: assignment in, completed notebook out"
    )
    commands = notebook.add_subparsers(dest="notebook_command", required=True)
    _add_run_parser(commands)
    validate = commands.add_parser(
        "validate", help="run notebooks as nbmake pytest items, on warm kernels"
    )
    validate.add_argument("notebooks", nargs="+", type=Path)
    validate.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default: 2)")
    _add_execution_options(validate)
    exercises = commands.add_parser("exercises", help="list the exercises found in a notebook")
    exercises.add_argument("notebook", type=Path)
    exercises.add_argument("--json", action="store_true", help="print them as JSON")
    return notebook


def _run(args: argparse.Namespace, http_client: Any = None) -> int:
    from pytest_iterbench.notebook.claude_solver import make_claude_solver
    from pytest_iterbench.notebook.export import ExportOptions
    from pytest_iterbench.notebook.pipeline import Pipeline, PipelineOptions

    options = PipelineOptions(
        input_dir=args.input,
        workspace=args.dir,
        solver=args.solver,
        solutions=args.solutions,
        alternatives=max(1, args.alternatives),
        metrics=tuple(args.metrics or DEFAULT_METRICS),
        cell_timeout=args.cell_timeout,
        kernel_name=args.kernel,
        export=ExportOptions(args.template, args.max_image_px, args.dedupe_images),
        max_attempts=max(1, args.max_attempts),
        model=args.model,
    )
    solver = None
    if args.solver == "claude-api":
        if args.claude_api_key:
            print(KEY_WARNING, file=sys.stderr)
        solver = make_claude_solver(
            options.root,
            api_key=args.claude_api_key,
            model=args.model,
            max_attempts=options.max_attempts,
            http_client=http_client,
        )
    return Pipeline(options, solver=solver).run().exit_code


def _validate(args: argparse.Namespace) -> int:
    from pytest_iterbench.notebook.validate import ValidationTarget, validate_notebooks

    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        raise NotebookReadError(f"not found: {', '.join(missing)}")
    report = validate_notebooks(
        [ValidationTarget(p) for p in args.notebooks],
        cell_timeout=args.cell_timeout,
        jobs=args.jobs,
        kernel_name=args.kernel,
    )
    for verdict in report.verdicts:
        print(f"{verdict.target.display_name}: {verdict.message()}")
    return 0 if report.passed else 1


def _no_exercises_reason(nb: Any) -> str:
    from pytest_iterbench.notebook.parse import is_question

    questions = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and is_question(c.source)
    ]
    code = sum(c.cell_type == "code" for c in nb.cells)
    if questions:
        cells = ", ".join(map(str, questions[:10]))
        return (
            f"{len(questions)} markdown cell(s) read as questions (cells {cells}), but none is "
            "followed by an empty or stub code cell, and no cell carries a recognised markup"
        )
    return (
        f"no cell carries a recognised markup (nbgrader, otter, solution or code-here markers, "
        f"YOUR CODE HERE / YOUR ANSWER HERE, function stubs) and no markdown cell reads as a "
        f"question; {code} code cell(s). See docs/notebooks.md, 'Exercises'"
    )


def _exercises(args: argparse.Namespace) -> int:
    from pytest_iterbench.notebook.nbio import read_notebook
    from pytest_iterbench.notebook.parse import find_exercises, unanswered_tasks

    nb = read_notebook(args.notebook)
    found = find_exercises(nb, args.notebook.parent)
    tasks = unanswered_tasks(nb, found)
    if args.json:
        print(
            json.dumps(
                [{k: v for k, v in e.to_json().items() if k != "images"} for e in found], indent=2
            )
        )
        return 0
    if not found:
        print(f"{args.notebook.name}: no exercises found: {_no_exercises_reason(nb)}")
    for exercise in found:
        checks = ", ".join(str(c) for c in exercise.check_cells) or "none"
        print(
            f"{exercise.id}: {exercise.style}; answer cell(s) {', '.join(map(str, exercise.answer_cells))}; "
            f"checks {checks}; {len(exercise.images)} image(s)"
        )
    if tasks:
        listed = ", ".join(f"{name} (cell {index})" for name, index in tasks)
        print(f"tasks without an answer cell: {listed}")
    return 0


def run_notebook_command(args: argparse.Namespace, http_client: Any = None) -> int:
    """Run the ``notebook`` subcommand parsed by ``add_notebook_parser``; the exit status.

    ``http_client`` is for tests: the claude-api solver's client sends through it.
    """
    try:
        if args.notebook_command == "run":
            return _run(args, http_client)
        status = {"validate": _validate, "exercises": _exercises}[args.notebook_command](args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:  # `... --json | head`: the reader left; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (SolverNotConfigured, KernelMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NotebookProcessorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if exc.notebook is None else 1


def main(argv: Sequence[str] | None = None, *, http_client: Any = None) -> int:
    """``python -m pytest_iterbench.notebook ...``: the same commands as ``iterbench notebook``."""
    parser = argparse.ArgumentParser(prog="python -m pytest_iterbench.notebook")
    commands = parser.add_subparsers(dest="command", required=True)
    add_notebook_parser(commands)
    return run_notebook_command(
        parser.parse_args(["notebook", *(argv if argv is not None else sys.argv[1:])]),
        http_client,
    )
