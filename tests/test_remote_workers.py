"""Remote xdist workers through loopback: two execnet socket servers on 127.0.0.1 as two hosts.

Each "host" is an ``execnet.script.socketserver`` process with its own copy of
the workspace (the worker's ``//chdir=``). The controller's workspace receives
the records; the servers' copies only run the iterations.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

SLEEPY_MAIN = """
import time
from pathlib import Path

def run(parameters):
    Path("started").write_text("x")  # cwd is the iteration's folder on the worker's host
    time.sleep(parameters["sleep"])
    return {"y_true": [0, 1, 1, 0], "y_pred": parameters["pred"]}
"""


class Host:
    """An execnet socket server on 127.0.0.1 in its own process group, serving ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "execnet.script.socketserver", f"127.0.0.1:{self.port}"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        assert "Entering Accept loop" in line, line

    @property
    def tx(self) -> str:
        return f"socket=127.0.0.1:{self.port}//chdir={self.root}"

    def kill(self) -> None:
        """``kill -9`` of the server's process group (the worker and its iterations' children)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def copy_workspace(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".iterbench", "results.json"))
    return target


@pytest.fixture
def sleepy_workspace(workspace, pytester):
    for k in range(6):
        workspace.iteration(
            f"v{k}", SLEEPY_MAIN, parameters={"pred": [0, 1, k % 2, 0], "sleep": 0.3}
        )
    workspace.builtin_metrics().run("run-001").write()
    return workspace


@pytest.fixture
def hosts(sleepy_workspace, tmp_path_factory) -> Iterator[list[Host]]:
    base = tmp_path_factory.mktemp("hosts")
    started = [Host(copy_workspace(sleepy_workspace.root, base / name)) for name in ("a", "b")]
    yield started
    for host in started:
        host.kill()


def controller_command(hosts: list[Host], *extra: str) -> list[str]:
    tx = [arg for host in hosts for arg in ("--tx", host.tx)]
    return [
        sys.executable,
        "-m",
        "pytest",
        "--iterbench",
        "run-001",
        "-p",
        "no:cacheprovider",
        "--dist",
        "load",
        *tx,
        *extra,
    ]


def run_controller(root: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def comparable(records: list[dict]) -> set[tuple]:
    return {
        (r["iteration_id"], r["metric_id"], r["status"], r["value"], r["config_hash"])
        for r in records
    }


def test_two_loopback_hosts_record_the_same_set_as_a_serial_run(sleepy_workspace, hosts, pytester):
    serial_root = copy_workspace(sleepy_workspace.root, pytester.path.parent / "serial")
    serial = run_controller(serial_root, [sys.executable, "-m", "pytest", "--iterbench", "run-001"])
    assert serial.returncode == 0, serial.stdout + serial.stderr
    serial_records = json.loads((serial_root / "results.json").read_text())["results"]

    result = run_controller(sleepy_workspace.root, controller_command(hosts))
    assert result.returncode == 0, result.stdout + result.stderr
    records = sleepy_workspace.results()
    assert len(records) == 12
    assert comparable(records) == comparable(serial_records)
    by_host: dict[str, set[str]] = {}
    for record in records:
        environment = record["environment"]
        assert environment["lock_scope"] == "host"
        assert environment["xdist_workers"] == 1, "one worker per host"
        by_host.setdefault(environment["host"], set()).add(record["iteration_id"])
    assert set(by_host) == {f"127.0.0.1:{host.port}" for host in hosts}
    # Each iteration ran on the host that recorded it, in that host's own copy.
    for host in hosts:
        ran = {p.parent.name for p in (host.root / "iterations").glob("*/started")}
        assert ran == by_host[f"127.0.0.1:{host.port}"]
    assert not list((sleepy_workspace.root / "iterations").glob("*/started"))
    report = sleepy_workspace.report()
    for host in hosts:
        assert f"127.0.0.1:{host.port}" in report


def test_a_worker_whose_code_differs_is_refused_naming_iteration_and_hashes(
    sleepy_workspace, hosts
):
    main = hosts[1].root / "iterations" / "v3" / "main.py"
    main.write_text(main.read_text() + "\n# changed on host b\n")
    result = run_controller(sleepy_workspace.root, controller_command(hosts))
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "restarting disabled" in output, "the refused worker is not replaced"
    assert f"on host 127.0.0.1:{hosts[1].port}" in output
    assert "config_hash differs for iteration v3 (controller " in output
    assert str(hosts[1].root) in output
    assert not (sleepy_workspace.root / "results.json").exists() or not sleepy_workspace.results()


def test_kill_9_of_one_host_keeps_its_finished_records_and_reports_the_rest(
    sleepy_workspace, hosts
):
    for entry in sleepy_workspace.iterations:
        entry["parameters"]["sleep"] = 1.5
    sleepy_workspace.write()
    for host in hosts:
        shutil.copy(sleepy_workspace.root / "iterations.json", host.root / "iterations.json")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    controller = subprocess.Popen(
        controller_command(hosts, "--max-worker-restart", "0"),
        cwd=sleepy_workspace.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    victim = hosts[1]
    deadline = time.monotonic() + 60
    while len(list((victim.root / "iterations").glob("*/started"))) < 2:
        assert time.monotonic() < deadline, "host b never started a second iteration"
        assert controller.poll() is None, controller.communicate()[0]
        time.sleep(0.05)
    victim.kill()
    output, _ = controller.communicate(timeout=90)
    assert controller.returncode == 1, output
    records = sleepy_workspace.results()
    keys = [(r["iteration_id"], r["metric_id"]) for r in records]
    assert len(keys) == len(set(keys)), "nothing duplicated"
    victim_host = f"127.0.0.1:{victim.port}"
    kept = {r["iteration_id"] for r in records if r["environment"]["host"] == victim_host}
    assert kept, "the killed host's finished records are kept"
    assert "crashed" in output
    assert "items never ran (their xdist worker died first)" in output
    missing = {(f"v{k}", m) for k in range(6) for m in ("accuracy", "f1_macro")} - set(keys)
    assert missing, "the item running on the killed host has no record"
    for iteration_id, metric_id in missing:
        assert f"{iteration_id}-{metric_id}" in output, output
