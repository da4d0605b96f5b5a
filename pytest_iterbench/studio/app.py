"""The studio's web application: routes over the JSON API, the live WebSocket and the page.

``create_app(root, token)`` builds a Starlette app for one workspace. Every
route sits behind :class:`~pytest_iterbench.studio.auth.TokenGuard`; every
JSON answer and WebSocket message has known secret values replaced
(:class:`~pytest_iterbench.secrets.Scrubber`), so an API key in the
environment never reaches the page. The routes are listed in ``docs/studio.md``.

>>> app = create_app(Path("."), token="t")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from pytest_iterbench.errors import IterbenchError, Problem, WorkspaceError
from pytest_iterbench.orchestrator.state import StateFile
from pytest_iterbench.orchestrator.status import status_json
from pytest_iterbench.results.events import events_path
from pytest_iterbench.secrets import Scrubber
from pytest_iterbench.studio import api, code
from pytest_iterbench.studio.auth import TOKEN_COOKIE, TokenGuard
from pytest_iterbench.studio.live import LiveHub
from pytest_iterbench.studio.sessions import Busy, Launch, SessionRunner
from pytest_iterbench.workspace.paths import WorkspacePaths

STATIC_DIR: Final = Path(__file__).parent / "static"
#: Largest plan the page may upload.
MAX_PLAN_BYTES: Final = 2 * 2**20
SECURITY_HEADERS: Final = {
    "referrer-policy": "no-referrer",  # the URL carries the token
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "cache-control": "no-store",
}


def _version() -> str:
    try:
        return version("pytest-iterbench")
    except PackageNotFoundError:
        return "unknown"


def _task_text(task: Any) -> str:
    """An orchestration's task in a few words: ``plan plan.json``, or its description."""
    if not isinstance(task, dict):
        return str(task)
    if task.get("kind") == "description":
        return str(task.get("description"))
    return f"{task.get('kind')} {task.get('path')}"


class Studio:
    """The state one app serves: the workspace, its session runner, its live hub."""

    def __init__(self, root: Path, token: str, scrubber: Scrubber, owner: str = "") -> None:
        self.root = Path(root).resolve()
        self.paths = WorkspacePaths(self.root)
        self.token = token
        self.scrubber = scrubber
        self.runner = SessionRunner(self.root, owner=owner)
        self.hub = LiveHub(events_path(self.paths.events_dir), scrubber, self.session_status)

    def session_status(self) -> dict[str, Any]:
        status = self.runner.status(self.scrubber)
        if status["holder"] is None:
            status["holder"] = self._orchestration_outside()
        outside = self.hub.state.running_outside(None) if status["holder"] is None else None
        if outside is not None:
            status["holder"] = {
                "kind": "run",
                "target": outside.get("run_id"),
                "workers": outside.get("workers"),
                "pid": outside.get("pid"),
                "since": outside.get("started_at"),
                "by": "a pytest session started outside the studio",
            }
        return status

    def _orchestration_outside(self) -> dict[str, Any] | None:
        found = self.hub.state.orchestration_outside(None)
        if found is None:
            return None
        return {
            "kind": "orchestration",
            "target": _task_text(found.get("task")),
            "workers": 0,
            "pid": found.get("pid"),
            "since": found.get("started_at"),
            "by": "an orchestration started outside the studio",
        }

    def json(self, data: Any, status: int = 200) -> Response:
        body = self.scrubber.scrub(json.dumps(data, default=str, allow_nan=False))
        return Response(body, status, SECURITY_HEADERS, media_type="application/json")


Handler = Callable[[Studio, Request], Any]


def _endpoint(
    studio: Studio, handler: Handler, *, threaded: bool
) -> Callable[[Request], Awaitable[Response]]:
    """A route running ``handler`` (in a thread when ``threaded``: it reads files or the index,
    which must not stall the live loop), with library errors turned into JSON messages."""

    async def endpoint(request: Request) -> Response:
        try:
            if inspect.iscoroutinefunction(handler):
                result = await handler(studio, request)
            elif threaded:
                result = await asyncio.to_thread(handler, studio, request)
            else:
                result = handler(studio, request)
            return result if isinstance(result, Response) else studio.json(result)
        except Busy as exc:
            return studio.json({"error": str(exc), "holder": exc.holder}, 409)
        except WorkspaceError as exc:
            return studio.json(
                {"error": str(exc), "problems": api.problems_json(exc.problems)}, 400
            )
        except code.OutsideFolder as exc:
            return studio.json({"error": str(exc)}, 404)
        except (IterbenchError, KeyError, ValueError) as exc:
            return studio.json({"error": f"{type(exc).__name__}: {exc}"}, 400)

    return endpoint


def _arg(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise WorkspaceError([Problem("request", name, "missing query parameter")])
    return value


async def _body_text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_PLAN_BYTES:
        raise ValueError(f"plan of {len(body)} bytes; at most {MAX_PLAN_BYTES}")
    return body.decode("utf-8", errors="replace")


async def index(studio: Studio, request: Request) -> Response:
    response = FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)
    host = request.headers.get("host", "")
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        f"connect-src 'self' ws://{host}; frame-src 'self'; object-src 'none'"
    )
    response.set_cookie(TOKEN_COOKIE, studio.token, httponly=True, samesite="strict")
    return response


def health(studio: Studio, request: Request) -> dict[str, Any]:
    return {
        "version": _version(),
        "workspace": str(studio.root),
        "session_running": studio.session_status()["holder"] is not None,
    }


async def validate_plan(studio: Studio, request: Request) -> dict[str, Any]:
    text = await _body_text(request)
    name = request.query_params.get("file", "plan.json")
    return await asyncio.to_thread(api.validate_plan, studio.root, text, name)


async def apply_plan(studio: Studio, request: Request) -> dict[str, Any]:
    text = await _body_text(request)
    name = request.query_params.get("file", "plan.json")
    return await asyncio.to_thread(api.apply_uploaded_plan, studio.root, text, name)


def _launch(body: dict[str, Any]) -> Launch:
    """The launch a ``POST /execute`` body asks for (a run needs its ``target``)."""
    kind = str(body.get("kind", "run"))
    target = str(body["target"] if kind == "run" else body.get("target", ""))
    planner = str(body.get("planner", "manual"))
    return Launch(kind, target, int(body.get("workers", 0)), planner, bool(body.get("resume")))


async def execute(studio: Studio, request: Request) -> dict[str, Any]:
    try:
        launch = _launch(json.loads(await request.body() or b"{}"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        expected = '{"target": RUN_ID, "workers": N} or {"kind": "orchestration", "planner": MODE}'
        raise ValueError(f"expected {expected}: {exc}") from exc
    outside = studio.session_status()["holder"]
    if outside is not None:
        raise Busy(outside)
    holder = await asyncio.to_thread(studio.runner.start, launch)
    return {"started": holder.to_json()}


def orchestration(studio: Studio, request: Request) -> Response | dict[str, Any]:
    """``iterbench status --json``: the orchestration in ``state.json`` with its summary."""
    found = StateFile(studio.root).load()
    if found is None:
        return studio.json({"error": f"no orchestration in {studio.paths.state.name}"}, 404)
    return status_json(found)


def stop(studio: Studio, request: Request) -> dict[str, Any]:
    return {"stopping": studio.runner.stop()}


#: Report files served as text, with known secrets replaced (the plots are inlined in the HTML).
TEXT_SUFFIXES: Final = frozenset({".html", ".md", ".txt", ".json", ".svg"})


def report_file(studio: Studio, request: Request) -> Response:
    """A file of ``reports/`` (the HTML report by default); nothing outside it."""
    name = request.path_params.get("name") or studio.paths.html_report.name
    path = code.safe_file(studio.paths.reports_dir, name)
    headers = dict(SECURITY_HEADERS)
    headers["content-security-policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    )
    if path.suffix not in TEXT_SUFFIXES:
        return FileResponse(path, headers=headers)
    text = studio.scrubber.scrub(path.read_text(encoding="utf-8", errors="replace"))
    media = {".html": "text/html", ".svg": "image/svg+xml", ".json": "application/json"}
    return Response(text, headers=headers, media_type=media.get(path.suffix, "text/plain"))


def _routes(studio: Studio) -> list[Route | WebSocketRoute | Mount]:
    def get(path: str, handler: Handler, threaded: bool = True) -> Route:
        return Route(path, _endpoint(studio, handler, threaded=threaded), methods=["GET"])

    def post(path: str, handler: Handler) -> Route:
        return Route(path, _endpoint(studio, handler, threaded=False), methods=["POST"])

    q = _arg
    return [
        get("/", index),
        get("/health", health, threaded=False),
        get("/api/workspace", lambda s, r: api.workspace_summary(s.root)),
        post("/api/plan/validate", validate_plan),
        post("/api/plan/apply", apply_plan),
        get("/api/session", lambda s, r: s.session_status(), threaded=False),
        get("/api/orchestration", orchestration),
        post("/execute", execute),
        post("/api/stop", stop),
        get(
            "/api/live",
            lambda s, r: json.loads(s.hub.message("snapshot", **s.hub.state.snapshot())),
            threaded=False,
        ),
        get(
            "/api/results",
            lambda s, r: api.results(s.root, q(r, "run"), r.query_params.get("session")),
        ),
        get(
            "/api/history",
            lambda s, r: api.history(s.root, q(r, "run"), q(r, "iteration"), q(r, "metric")),
        ),
        get(
            "/api/pareto",
            lambda s, r: api.pareto(
                s.root, q(r, "run"), q(r, "x"), q(r, "y"), r.query_params.get("session")
            ),
        ),
        get(
            "/api/code",
            lambda s, r: code.iteration_code(s.root, q(r, "iteration"), r.query_params.get("file")),
        ),
        get(
            "/api/item",
            lambda s, r: api.item_detail(s.root, q(r, "run"), q(r, "session"), q(r, "nodeid")),
        ),
        get("/api/costs", lambda s, r: api.llm_costs(s.root)),
        get(
            "/code.css",
            lambda s, r: Response(code.css(), headers=SECURITY_HEADERS, media_type="text/css"),
        ),
        get("/report", report_file),
        get("/report/{name:path}", report_file),
        WebSocketRoute("/ws", lambda ws: live_socket(studio, ws)),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


async def live_socket(studio: Studio, websocket: WebSocket) -> None:
    """The snapshot, then every new batch of events and each change of who holds the session."""
    await websocket.accept()
    queue = studio.hub.subscribe()
    sender = asyncio.create_task(_send_all(websocket, queue))
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the page sends nothing; reading notices when it goes away
    finally:
        studio.hub.unsubscribe(queue)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender


async def _send_all(websocket: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await queue.get())


def create_app(
    root: Path, token: str, *, scrubber: Scrubber | None = None, owner: str = ""
) -> Starlette:
    """The studio of the workspace at ``root``, answering only requests that carry ``token``."""
    studio = Studio(root, token, scrubber or Scrubber.from_environment(), owner)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        studio.hub.start()
        try:
            yield
        finally:
            await studio.hub.stop()
            await asyncio.to_thread(studio.runner.close)

    app = Starlette(
        routes=_routes(studio), middleware=[Middleware(TokenGuard, token=token)], lifespan=lifespan
    )
    app.state.studio = studio
    return app
