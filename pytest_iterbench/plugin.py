"""The pytest plugin: options, and the registration of the session's state.

``pytest --iterbench RUN_ID`` validates the workspace, collects the run's
(iteration, metric) items, executes each iteration once, records results in
``results.json`` and writes ``reports/comparison_report.md``. Without
``--iterbench`` the plugin changes nothing in a test suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_iterbench.errors import WorkspaceError
from pytest_iterbench.execution.executor import Limits
from pytest_iterbench.harness import fixtures
from pytest_iterbench.harness.collection import (
    METRIC_MARKER,
    TARGET_KEY,
    RunFile,
    Target,
    slot_suffix,
)
from pytest_iterbench.harness.fixtures import SESSION_KEY
from pytest_iterbench.harness.session import IterbenchSession, SessionSettings
from pytest_iterbench.results.records import git_commit, new_session_id
from pytest_iterbench.workspace.loader import RUNS_FILE, Workspace

DEFAULT_TIMEOUT = 3600.0


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
        default=None,
    )
    parser.addini(
        "iterbench_memory_limit",
        "default memory limit of an iteration in MB (default none)",
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
        default="auto",
    )


def _workspace_dir(config: pytest.Config) -> Path:
    option = config.getoption("iterbench_dir")
    if option:
        return (config.invocation_params.dir / str(option)).resolve()
    ini = config.getini("iterbench_dir")
    base = config.inipath.parent if config.inipath else config.rootpath
    return (base / str(ini)).resolve() if ini else config.rootpath


def _number(config: pytest.Config, option: str, default: float | None) -> float | None:
    value = config.getoption(option)
    if value is None:
        ini = config.getini(option)
        try:
            value = float(ini) if ini not in (None, "") else default
        except ValueError:
            raise pytest.UsageError(f"ini option {option} = {ini!r}: expected a number") from None
    return value if value else None


def _settings(config: pytest.Config, run_id: str, workspace: Workspace) -> SessionSettings:
    workerinput = getattr(config, "workerinput", None)
    return SessionSettings(
        run_id=run_id,
        limits=Limits(
            timeout=_number(config, "iterbench_timeout", DEFAULT_TIMEOUT),
            memory_limit_mb=_number(config, "iterbench_memory_limit", None),
        ),
        preload=list(config.getini("iterbench_preload")),
        session_id=workerinput["iterbench_session_id"] if workerinput else new_session_id(),
        exclusive=bool(config.getoption("iterbench_exclusive")),
        compare=config.getoption("iterbench_compare"),
        threads=str(config.getini("iterbench_threads")),
        plots=bool(config.getoption("iterbench_plots") or config.getini("iterbench_plots")),
        git_commit=workerinput.get("iterbench_git_commit")
        if workerinput
        else git_commit(workspace.root),
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
        workspace = Workspace.load(_workspace_dir(config))
        state = IterbenchSession(config, workspace, _settings(config, run_id, workspace))
    except WorkspaceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[SESSION_KEY] = state
    config.pluginmanager.register(state, "iterbench-session")
    if not hasattr(config, "workerinput"):
        state.start_controller()
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        metrics_dir = workspace.root / "metrics"
        config.args = [
            str(workspace.root / RUNS_FILE),
            *([str(metrics_dir)] if metrics_dir.is_dir() else []),
        ]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = node.config.stash.get(SESSION_KEY, None)
    if state is not None:
        node.workerinput["iterbench_git_commit"] = state.settings.git_commit


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
    if state is not None and file_path == state.workspace.root / RUNS_FILE:
        return RunFile.from_parent(parent, path=file_path, state=state)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "iteration" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    marker = metafunc.definition.get_closest_marker(METRIC_MARKER)
    where = metafunc.definition.nodeid
    if marker is None or not marker.args:
        pytest.fail(
            f"{where}: a metric test needs @pytest.mark.{METRIC_MARKER}('METRIC_ID') naming its metric in metrics.json",
            pytrace=False,
        )
    metric_id = marker.args[0]
    if metric_id not in state.workspace.metrics:
        pytest.fail(
            f"{where}: @pytest.mark.{METRIC_MARKER}({metric_id!r}): unknown metric; metrics.json defines: {', '.join(state.workspace.metrics)}",
            pytrace=False,
        )
    params = []
    for iteration_id in state.run.iteration_ids:
        seeds = state.run.repeat_seeds(state.workspace.iterations[iteration_id])
        for repeat, seed in enumerate(seeds):
            param_id = iteration_id + slot_suffix(repeat, len(seeds))
            params.append(pytest.param((iteration_id, repeat, seed), id=param_id))
    metafunc.parametrize("iteration", params, indirect=True)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker(METRIC_MARKER)
        if callspec is not None and marker is not None and "iteration" in callspec.params:
            iteration_id, repeat, seed = callspec.params["iteration"]
            item.stash[TARGET_KEY] = Target(iteration_id, marker.args[0], repeat, seed)
            if marker.args[0] not in state.run.metric_ids:
                deselected.append(item)
                continue
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
