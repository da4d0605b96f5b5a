"""The pytest plugin: options, and the registration of the session's state.

``pytest --iterbench RUN_ID`` validates the workspace, collects the run's
(iteration, metric) items, executes each iteration once, records results in
``results.json`` and writes ``reports/comparison_report.md``. Without
``--iterbench`` the plugin changes nothing in a test suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest

from pytest_iterbench import hookspec
from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.harness import fixtures
from pytest_iterbench.harness.collection import (
    RunFile,
    collection_args,
    parametrize_metric_test,
    select_metric_tests,
)
from pytest_iterbench.harness.resume import narrow_items
from pytest_iterbench.harness.session import SESSION_KEY, IterbenchSession
from pytest_iterbench.harness.settings import DEFAULT_TIMEOUT, read_settings, workspace_dir
from pytest_iterbench.harness.target import METRIC_MARKER
from pytest_iterbench.workspace.loader import Workspace


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{METRIC_MARKER}(metric_id): the metric a metric test records (pytest-iterbench)",
    )
    config.pluginmanager.register(fixtures, "iterbench-fixtures")
    run_id = config.getoption("iterbench_run")
    if not run_id:
        return
    try:
        checked = getattr(config, "workerinput", {}).get("iterbench_schema_checked", False)
        workspace = Workspace.load(workspace_dir(config), schema_checked=checked)
        state = IterbenchSession(config, workspace, read_settings(config, run_id, workspace))
    except WorkspaceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[SESSION_KEY] = state
    config.pluginmanager.register(state, "iterbench-session")
    if state.needs_notebooks():
        _register_notebook_runner(config)
    if not hasattr(config, "workerinput"):
        state.start_controller()
    config.args = collection_args(config, workspace.root)


def _register_notebook_runner(config: pytest.Config) -> None:
    """The ``.ipynb`` runner, imported only for a run with notebooks (its imports are heavy)."""
    try:
        from pytest_iterbench.notebook import iteration_runner
    except ImportError:
        return  # the executor names the notebook extra when a notebook iteration runs
    if not config.pluginmanager.is_registered(iteration_runner):
        config.pluginmanager.register(iteration_runner, "iterbench-notebook-runner")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is not None:
        state.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Send each xdist worker the session's ids, its host, and to a remote one the code's hashes."""
    state = node.config.stash.get(SESSION_KEY, None)
    if state is not None:
        node.workerinput.update(state.worker_input(node.gateway.spec, node.nodemanager.specs))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist load`` (what ``-n`` implies), keep each execution's items on one worker."""
    state = config.stash.get(SESSION_KEY, None)
    if state is None or config.getvalue("dist") != "load":
        return None
    from pytest_iterbench.harness.scheduling import IterationScheduling, execution_scopes

    return IterationScheduling(config, log, execution_scopes(state.workspace, state.run))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    state = parent.config.stash.get(SESSION_KEY, None)
    if state is not None and file_path == state.paths.runs:
        return RunFile.from_parent(parent, path=file_path, state=state)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = metafunc.config.stash.get(SESSION_KEY, None)
    if state is not None and "iteration" in metafunc.fixturenames:
        parametrize_metric_test(metafunc, state)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is not None:
        select_metric_tests(config, items, state)
        narrow_items(config, items, state)
