"""Remote xdist workers (``--tx socket=HOST:PORT``, ``--tx ssh=HOST``): hosts and the code check.

xdist's own engine carries items and reports; this module only says, for each
worker, which host it measures on, how many of the session's workers share
that host (thread caps and the measurement lock hold per host), and whether the
worker's workspace holds the controller's code.

A remote worker finds its workspace as the controller finds its own, from its
working directory: xdist's ``//chdir=DIR`` in the ``--tx`` spec (a shared
folder, or a checkout at the controller's commit), then ``--iterbench-dir`` or
the ini value ``iterbench_dir`` there. The controller sends the
``config_hash`` of each of the run's iterations; a worker whose own hashes
differ refuses to start (:func:`check_worker_code`).
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Where the measurement lock and the thread caps hold: every worker on one host shares them.
LOCK_SCOPE = "host"


def spec_host(spec: Any) -> str:
    """The host an execnet ``XSpec`` runs on: ``HOST:PORT`` of a socket, the ssh target, else this machine.

    >>> from execnet import XSpec
    >>> spec_host(XSpec("socket=127.0.0.1:8888//chdir=ws")), spec_host(XSpec("ssh=me@gpu1"))
    ('127.0.0.1:8888', 'me@gpu1')
    """
    socket = getattr(spec, "socket", None)
    if socket:
        return str(socket)
    ssh = getattr(spec, "ssh", None)
    if ssh:
        return str(ssh)
    return platform.node() or "localhost"


def is_remote(spec: Any) -> bool:
    """True for a worker that may see other files than the controller (not a plain ``popen``)."""
    return not getattr(spec, "popen", False) or bool(getattr(spec, "chdir", None))


def workers_per_host(specs: Sequence[Any]) -> Counter[str]:
    """How many of the session's workers run on each host."""
    return Counter(spec_host(spec) for spec in specs)


def check_worker_code(
    expected: Mapping[str, str],
    found: Mapping[str, str],
    *,
    worker: str,
    host: str,
    workspace: str,
    commit: str | None,
) -> None:
    """Refuse a worker whose iterations' ``config_hash`` differ from the controller's.

    Raises pytest.UsageError naming the worker, its host and workspace, each
    differing iteration with both hashes, and the commit to check out.
    """
    differing = [
        f"{iteration_id} (controller {expected[iteration_id]}, worker {found.get(iteration_id, 'missing')})"
        for iteration_id in sorted(expected)
        if found.get(iteration_id) != expected[iteration_id]
    ]
    if not differing:
        return
    at = f" at commit {commit}" if commit else ""
    raise pytest.UsageError(
        f"xdist worker {worker} on host {host}: workspace {workspace} holds other code than the controller's: "
        f"config_hash differs for iteration {', '.join(differing)}; "
        f"expected the controller's workspace{at} (a shared folder or a checkout of the same commit, "
        "given by the --tx spec's //chdir=)"
    )


#: The words by which the controller tells a refused worker from a crashed one.
REFUSAL = "holds other code than the controller's"


def refusal_message(error: object) -> str | None:
    """The refusal line of a worker's error (a remote traceback), if it was refused."""
    for text in str(error or "").splitlines():
        if REFUSAL in text:
            return text.removeprefix("pytest.UsageError: ").strip()
    return None


@dataclass
class WorkerWatch:
    """The controller's view of its xdist workers: items collected and reported, workers refused.

    An item collected but never reported ran on no worker: its worker died
    before xdist could hand it to another (xdist drops a dead worker's queued
    items once the others have been told to shut down).
    """

    collected: dict[str, None] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)

    def lost(self) -> list[str]:
        """Node ids collected by the workers that no report ever named."""
        return [nodeid for nodeid in self.collected if nodeid not in self.reported]

    def refuse(self, config: pytest.Config, message: str) -> None:
        """Remember a refused worker and keep xdist from replacing it (which would hang or repeat).

        Called from ``pytest_testnodedown``, which xdist's ``DSession.worker_errordown``
        calls before it decides to start a replacement. xdist has no public way
        to refuse that from a plugin; setting its ``_max_worker_restart`` to 0
        does what ``--max-worker-restart 0`` does: no replacement, and every
        worker is told to shut down once its queued items are done.
        """
        if message not in self.refused:
            self.refused.append(message)
        dsession = config.pluginmanager.getplugin("dsession")
        if dsession is not None and hasattr(dsession, "_max_worker_restart"):
            dsession._max_worker_restart = 0
