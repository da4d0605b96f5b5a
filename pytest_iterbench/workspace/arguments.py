"""The one spelling of the workspace on the command line: ``--dir DIR`` in every subcommand.

Older spellings keep working silently: ``--workspace DIR`` everywhere, and a
positional folder where a subcommand took one (``iterbench validate DIR``).

>>> parser = argparse.ArgumentParser()
>>> add_dir_argument(parser)
>>> chosen_dir(parser.parse_args(["--dir", "ws"])), chosen_dir(parser.parse_args(["ws"]))
(PosixPath('ws'), PosixPath('ws'))
"""

from __future__ import annotations

import argparse
from pathlib import Path

DIR_HELP = "workspace folder (default: .)"


def add_dir_argument(
    parser: argparse.ArgumentParser,
    *,
    default: Path | None = Path("."),
    positional_alias: bool = True,
    help: str = DIR_HELP,
) -> None:
    """Add ``--dir DIR`` (alias ``--workspace``) and, if asked, the old positional folder."""
    parser.add_argument(
        "--dir", "--workspace", dest="dir", type=Path, default=None, metavar="DIR", help=help
    )
    if positional_alias:
        parser.add_argument("legacy_dir", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.set_defaults(dir_default=default)


def chosen_dir(args: argparse.Namespace) -> Path:
    """The folder the user named (``--dir`` or the old positional), else the default."""
    chosen: Path | None = getattr(args, "legacy_dir", None) or args.dir or args.dir_default
    if chosen is None:
        raise ValueError("no workspace folder given and no default")
    return chosen
