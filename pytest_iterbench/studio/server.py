"""``iterbench studio``: serve a workspace's studio on 127.0.0.1 and print its URL with the token.

The server binds ``127.0.0.1`` on the given port, or a free one; it prints
``http://127.0.0.1:PORT/?token=TOKEN`` on a line of its own (as Jupyter
does) and opens it in the browser unless ``--no-browser``. Another address
is served only with ``--host ADDRESS --allow-remote``, and then with a
warning: anyone who can reach it and learns the token can run code there.

>>> main_studio(Path("."), port=0, open_browser=False)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any, Final

import uvicorn

from pytest_iterbench.errors import IterbenchError
from pytest_iterbench.studio.auth import new_token
from pytest_iterbench.workspace.arguments import add_dir_argument, chosen_dir

LOCAL_HOST: Final = "127.0.0.1"
LOCAL_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def add_studio_parser(commands: Any) -> None:
    """The ``studio`` subcommand's arguments."""
    studio = commands.add_parser(
        "studio", help="a local web page: load plans, start and stop runs, watch them live"
    )
    add_dir_argument(studio)
    studio.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    studio.add_argument("--no-browser", action="store_true", help="print the URL only")
    studio.add_argument(
        "--host", default=LOCAL_HOST, help=f"address to serve on (default {LOCAL_HOST})"
    )
    studio.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other machines can reach (with a warning)",
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise IterbenchError(f"cannot serve on {host}:{port}: {exc}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def studio_url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def check_host(host: str, allow_remote: bool) -> None:
    """``IterbenchError`` for a non-local address without ``--allow-remote``; a warning with it."""
    if host in LOCAL_NAMES:
        return
    if not allow_remote:
        raise IterbenchError(
            f"--host {host}: the studio serves only {LOCAL_HOST} unless --allow-remote is given"
        )
    print(
        f"warning: serving on {host}: anyone who reaches this address with the token can "
        "start runs (run code) in this workspace",
        file=sys.stderr,
    )


def main_studio(
    root: Path, *, port: int = 0, host: str = LOCAL_HOST, open_browser: bool = True
) -> int:
    """Serve the studio until Ctrl-C; returns the exit status."""
    from pytest_iterbench.studio.app import create_app

    token = new_token()
    sock = bind(host, port)
    url = studio_url(host, sock.getsockname()[1], token)
    app = create_app(root, token)
    print(f"iterbench studio of {Path(root).resolve()}; open:", flush=True)
    print(url, flush=True)
    if open_browser:
        webbrowser.open(url)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn shuts down, then re-raises Ctrl-C
        uvicorn.Server(_config(app)).run(sockets=[sock])
    print("iterbench studio stopped", flush=True)
    return 0


def _config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")


class ServerThread:
    """The studio served by uvicorn in a thread of this process, for tests and benchmarks.

    >>> with ServerThread(create_app(root, "t")) as server:  # doctest: +SKIP
    ...     server.base  # 'http://127.0.0.1:PORT'
    """

    def __init__(self, app: Any, host: str = LOCAL_HOST) -> None:
        self.sock = bind(host, 0)
        self.port = int(self.sock.getsockname()[1])
        self.base = f"http://{host}:{self.port}"
        self.server = uvicorn.Server(_config(app))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise IterbenchError("the studio's server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self.sock.close()


def run_studio(args: argparse.Namespace) -> int:
    """The ``studio`` subcommand."""
    check_host(args.host, args.allow_remote)
    return main_studio(
        chosen_dir(args), port=args.port, host=args.host, open_browser=not args.no_browser
    )
