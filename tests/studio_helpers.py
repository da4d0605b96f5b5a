"""Helpers of the studio's tests: a real server on 127.0.0.1, plain HTTP and WebSocket clients."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from pytest_iterbench.studio.app import create_app
from pytest_iterbench.studio.server import ServerThread

TOKEN = "test-token-0123456789"
#: urllib without proxies: the tests talk to 127.0.0.1 only.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

SLOW_MAIN = """
import os, time
def run(parameters):
    flag = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go")
    deadline = time.time() + 60
    while not os.path.exists(flag) and time.time() < deadline:
        time.sleep(0.05)
    return {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0]}
"""


@contextmanager
def studio(root: Path, **kwargs: Any) -> Iterator[ServerThread]:
    """The studio of ``root`` served on a free port of 127.0.0.1 for the block."""
    with ServerThread(create_app(root, TOKEN, **kwargs)) as server:
        yield server


def http(
    server: ServerThread,
    path: str,
    *,
    token: str | None = TOKEN,
    method: str = "GET",
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """(status, body text) of one request; ``token`` goes in the header."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(server.base + path, data=data, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token is not None:
        request.add_header("X-Iterbench-Token", token)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def get_json(server: ServerThread, path: str, **kwargs: Any) -> Any:
    status, text = http(server, path, **kwargs)
    assert status == 200, f"{path}: {status} {text}"
    return json.loads(text)


def post_json(server: ServerThread, path: str, payload: Any) -> tuple[int, Any]:
    status, text = http(server, path, method="POST", body=json.dumps(payload))
    return status, json.loads(text)


@contextmanager
def live(server: ServerThread, token: str = TOKEN, origin: str | None = None) -> Iterator[Any]:
    """A WebSocket on ``/ws`` (raises ``websockets.exceptions.InvalidStatus`` when refused)."""
    url = f"ws://127.0.0.1:{server.port}/ws?token={token}"
    headers = {"Origin": origin} if origin else None
    with connect(url, additional_headers=headers, proxy=None, open_timeout=10) as socket:
        yield socket


def receive_until(
    socket: Any, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    """Every message received until ``done(messages)`` holds (or the timeout: AssertionError)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(messages):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; last messages: {messages[-3:]}"
        try:
            messages.append(json.loads(socket.recv(timeout=min(left, 1.0))))
        except TimeoutError:
            continue
    return messages


def events_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events carried by ``events`` messages, in order."""
    return [e for m in messages if m["type"] == "events" for e in m["events"]]
