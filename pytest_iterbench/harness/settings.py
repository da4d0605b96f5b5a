"""What the command line and the ini file chose for a session, and what travels to xdist workers.

``read_settings(config, run_id, workspace)`` turns pytest's options into one
:class:`SessionSettings`. The controller chooses the session id and reads the
git commit once; an xdist worker receives both in its ``workerinput`` as a
:class:`WorkerInput` (see ``worker_input``), so every process of a session
writes the same ids into its records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pytest

from pytest_iterbench.execution.executor import Limits
from pytest_iterbench.harness.options import DEFAULT_TIMEOUT
from pytest_iterbench.results.records import git_commit, new_session_id
from pytest_iterbench.workspace.loader import Workspace

SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class WorkerInput(TypedDict):
    """What the controller sends to each xdist worker (merged into ``config.workerinput``)."""

    iterbench_session_id: str
    iterbench_git_commit: str | None
    #: The host the worker measures on, and how many of the session's workers share it.
    iterbench_host: NotRequired[str]
    iterbench_host_workers: NotRequired[int]
    #: The controller's ``config_hash`` of each iteration (sent to remote workers only).
    iterbench_config_hashes: NotRequired[dict[str, str]]
    #: True for a worker on the controller's host: the workspace's schemas were checked there.
    iterbench_schema_checked: NotRequired[bool]


@dataclass
class SessionSettings:
    """What the command line and ini file chose for this session."""

    run_id: str
    limits: Limits
    preload: list[str]
    session_id: str
    git_commit: str | None
    exclusive: bool = True
    threads: str = "auto"
    compare: str | None = None
    plots: bool = False
    received: WorkerInput | None = None

    def worker_input(self) -> WorkerInput:
        """The payload an xdist worker needs to write this session's records."""
        return WorkerInput(
            iterbench_session_id=self.session_id, iterbench_git_commit=self.git_commit
        )


def workspace_dir(config: pytest.Config) -> Path:
    """``--iterbench-dir`` (relative to the invocation folder), else ini ``iterbench_dir``
    (relative to the ini file), else the rootdir."""
    option = config.getoption("iterbench_dir")
    if option:
        return (config.invocation_params.dir / str(option)).resolve()
    ini = config.getini("iterbench_dir")
    base = config.inipath.parent if config.inipath else config.rootpath
    return (base / str(ini)).resolve() if ini else config.rootpath


def ini_value(config: pytest.Config, name: str) -> Any:
    """A typed ini option; a value of the wrong type is a UsageError naming option and value.

    pytest checks the type (``parser.addini(type=...)``), but its message for an
    ini-file value such as ``iterbench_timeout = soon`` is Python's
    ``could not convert string to float: 'soon'``, which names no option.
    """
    try:
        return config.getini(name)
    except pytest.UsageError as exc:
        if name in str(exc):
            raise
        raise pytest.UsageError(f"{config.inipath}: ini option {name}: {exc}") from exc


def _number(config: pytest.Config, option: str, default: float | None) -> float | None:
    """The command-line value, else the ini value, else ``default``; 0 means none."""
    value = config.getoption(option)
    if value is None:
        ini = ini_value(config, option)
        value = default if ini is None else float(ini)
    return value if value else None


def _worker_input(config: pytest.Config) -> WorkerInput | None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    received = WorkerInput(
        iterbench_session_id=workerinput["iterbench_session_id"],
        iterbench_git_commit=workerinput.get("iterbench_git_commit"),
    )
    for key in ("iterbench_host", "iterbench_host_workers", "iterbench_config_hashes"):
        if key in workerinput:
            received[key] = workerinput[key]
    return received


def _chosen_session(config: pytest.Config) -> str | None:
    """``--iterbench-session``: a resumed session's id (it names a journal file: a safe name)."""
    chosen: str | None = config.getoption("iterbench_session", None)
    if chosen is not None and not SESSION_ID.fullmatch(chosen):
        raise pytest.UsageError(
            f"--iterbench-session: expected letters, digits, '.', '_', '-' (as in a session id), found {chosen!r}"
        )
    return chosen


def read_settings(config: pytest.Config, run_id: str, workspace: Workspace) -> SessionSettings:
    """The session's settings; on an xdist worker, the ids its controller sent."""
    received = _worker_input(config)
    return SessionSettings(
        run_id=run_id,
        limits=Limits(
            timeout=_number(config, "iterbench_timeout", DEFAULT_TIMEOUT),
            memory_limit_mb=_number(config, "iterbench_memory_limit", None),
        ),
        preload=list(config.getini("iterbench_preload")),
        session_id=received["iterbench_session_id"]
        if received
        else (_chosen_session(config) or new_session_id()),
        exclusive=bool(config.getoption("iterbench_exclusive")),
        compare=config.getoption("iterbench_compare"),
        threads=str(ini_value(config, "iterbench_threads")),
        plots=bool(config.getoption("iterbench_plots") or ini_value(config, "iterbench_plots")),
        git_commit=received["iterbench_git_commit"] if received else git_commit(workspace.root),
        received=received,
    )
