"""The pytest plugin: options, and the registration of the session's state.

``pytest --iterbench RUN_ID`` validates the workspace, collects the run's
(iteration, metric) items, executes each iteration once, records results in
``results.json`` and writes ``reports/comparison_report.md``. Without
``--iterbench`` the plugin changes nothing in a test suite, and costs it next
to nothing: pytest imports this module in every session, so it imports only the
options, the stash key and the fixtures; the harness (workspace, session,
collection) is imported by the hooks once ``--iterbench`` names a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iterbench import hookspec
from pytest_iterbench.harness import fixtures
from pytest_iterbench.harness.options import add_options
from pytest_iterbench.harness.stash import SESSION_KEY, running_session
from pytest_iterbench.harness.target import METRIC_MARKER

if TYPE_CHECKING:
    from pytest_iterbench.harness.session import IterbenchSession


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{METRIC_MARKER}(metric_id): the metric a metric test records (pytest-iterbench)",
    )
    config.pluginmanager.register(fixtures, "iterbench-fixtures")
    run_id = config.getoption("iterbench_run")
    if not run_id:
        return
    from pytest_iterbench.harness.collection import collection_args

    state = _start_session(config, run_id)
    config.stash[SESSION_KEY] = state
    config.pluginmanager.register(state, "iterbench-session")
    if state.needs_notebooks():
        _register_notebook_runner(config)
    if not hasattr(config, "workerinput"):
        state.start_controller()
    config.args = collection_args(config, state.workspace.root)


def _start_session(config: pytest.Config, run_id: str) -> IterbenchSession:
    """The session's state; a usage error for an invalid workspace or an unknown run.

    The controller (or a serial session) checks the definition files against
    their schemas, except files identical to ones that passed before (the
    schema memo, saved once the session is sure to run); an xdist worker on the
    same host trusts the controller's check.
    """
    from pytest_iterbench.errors import WorkspaceError
    from pytest_iterbench.harness.session import IterbenchSession
    from pytest_iterbench.harness.settings import read_settings, workspace_dir
    from pytest_iterbench.workspace.loader import Workspace
    from pytest_iterbench.workspace.paths import WorkspacePaths
    from pytest_iterbench.workspace.schema_memo import SchemaMemo

    try:
        checked = getattr(config, "workerinput", {}).get("iterbench_schema_checked", False)
        root = workspace_dir(config)
        memo = None if checked else SchemaMemo(WorkspacePaths(root).state_dir)
        workspace = Workspace.load(root, schema_checked=checked, memo=memo)
        state = IterbenchSession(config, workspace, read_settings(config, run_id, workspace))
    except WorkspaceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if memo is not None:
        memo.save()
    return state


def _register_notebook_runner(config: pytest.Config) -> None:
    """The ``.ipynb`` runner, imported only for a run with notebooks (its imports are heavy)."""
    try:
        from pytest_iterbench.notebook import iteration_runner
    except ImportError:
        return  # the executor names the notebook extra when a notebook iteration runs
    if not config.pluginmanager.is_registered(iteration_runner):
        config.pluginmanager.register(iteration_runner, "iterbench-notebook-runner")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = running_session(config)
    if state is not None:
        state.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Send each xdist worker the session's ids, its host, and to a remote one the code's hashes."""
    state = running_session(node.config)
    if state is not None:
        node.workerinput.update(state.worker_input(node.gateway.spec, node.nodemanager.specs))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist load`` (what ``-n`` implies), keep each execution's items on one worker."""
    state = running_session(config)
    if state is None or config.getvalue("dist") != "load":
        return None
    from pytest_iterbench.harness.scheduling import IterationScheduling, execution_scopes

    return IterationScheduling(config, log, execution_scopes(state.workspace, state.run))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    state = running_session(parent.config)
    if state is not None and file_path == state.paths.runs:
        from pytest_iterbench.harness.collection import RunFile

        return RunFile.from_parent(parent, path=file_path, state=state)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = running_session(metafunc.config)
    if state is not None and "iteration" in metafunc.fixturenames:
        from pytest_iterbench.harness.collection import parametrize_metric_test

        parametrize_metric_test(metafunc, state)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = running_session(config)
    if state is not None:
        from pytest_iterbench.harness.collection import select_metric_tests
        from pytest_iterbench.harness.resume import narrow_items

        select_metric_tests(config, items, state)
        narrow_items(config, items, state)
