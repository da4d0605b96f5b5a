"""The plugin's command-line options and ini keys, and their defaults.

``harness/settings.py`` reads them back into a session's settings. This module
imports nothing of the harness: pytest imports the plugin, and with it these
declarations, in every session, ``--iterbench`` or not.
"""

from __future__ import annotations

from typing import Literal

import pytest

DEFAULT_TIMEOUT = 3600.0


def add_options(parser: pytest.Parser) -> None:
    """Declare ``--iterbench*`` and the ``iterbench_*`` ini keys."""
    group = parser.getgroup("iterbench", "compare iterations on metrics (pytest-iterbench)")
    group.addoption(
        "--iterbench",
        dest="iterbench_run",
        metavar="RUN_ID",
        default=None,
        help="run RUN_ID of the workspace's runs.json: execute its iterations and record its metrics",
    )
    group.addoption(
        "--iterbench-dir",
        dest="iterbench_dir",
        metavar="DIR",
        default=None,
        help="workspace folder holding iterations.json, metrics.json, runs.json (default: ini iterbench_dir, else rootdir)",
    )
    group.addoption(
        "--iterbench-timeout",
        dest="iterbench_timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"seconds an iteration's entry point may run before it is killed (default: ini iterbench_timeout, else {DEFAULT_TIMEOUT:g}; 0 for none)",
    )
    group.addoption(
        "--iterbench-memory-limit",
        dest="iterbench_memory_limit",
        metavar="MB",
        type=float,
        default=None,
        help="memory (MB) an iteration may add to its process before it fails with MemoryError (default: ini iterbench_memory_limit, else none)",
    )
    group.addoption(
        "--iterbench-compare",
        dest="iterbench_compare",
        metavar="SESSION",
        default=None,
        help="compare with an earlier session ('last' or a session id) and fail when a metric got worse beyond its tolerance in metrics.json",
    )
    group.addoption(
        "--iterbench-no-exclusive",
        dest="iterbench_exclusive",
        action="store_false",
        default=True,
        help="under xdist, let timing measurements run while other items run (faster, noisier; recorded as exclusive_timing: false)",
    )
    group.addoption(
        "--iterbench-plots",
        dest="iterbench_plots",
        action="store_true",
        default=None,
        help="draw the report's plots at the end of the session (default: ini iterbench_plots, else off; figures whose data did not change are reused)",
    )
    group.addoption(
        "--iterbench-session",
        dest="iterbench_session",
        metavar="SESSION_ID",
        default=None,
        help="write records under this session id and skip the items it already recorded (resume a killed session; fold its journal first)",
    )
    group.addoption(
        "--iterbench-only",
        dest="iterbench_only",
        metavar="ITERATION",
        action="append",
        default=None,
        help="run only this iteration's items (repeatable)",
    )
    parser.addini(
        "iterbench_plots",
        "draw the report's plots at the end of each session (default false)",
        type="bool",
        default=False,
    )
    parser.addini(
        "iterbench_dir",
        "workspace folder, relative to the ini file (default: rootdir)",
        default=None,
    )
    parser.addini(
        "iterbench_timeout",
        f"default timeout of an iteration in seconds (0 for none; default {DEFAULT_TIMEOUT:g})",
        type="float",
        default=None,
    )
    parser.addini(
        "iterbench_memory_limit",
        "default memory limit of an iteration in MB (default none)",
        type="float",
        default=None,
    )
    parser.addini(
        "iterbench_preload",
        "modules the process template pre-imports: 'auto' (detected from the iterations' imports), 'none', or module names",
        type="args",
        default=["auto"],
    )
    parser.addini(
        "iterbench_threads",
        "BLAS/OpenMP/torch threads per xdist worker: 'auto' (cpus // workers), 'none', or a number",
        type=int | Literal["auto", "none"],
        default="auto",
    )
