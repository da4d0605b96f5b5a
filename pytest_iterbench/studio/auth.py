"""Who may talk to the studio: the holder of its token, from a page of its own origin.

Every HTTP request and every WebSocket must carry the token the server printed
(``?token=`` in the URL, the ``X-Iterbench-Token`` header, or the cookie the
page receives on its first load); anything else gets 403 before a route runs.
A request whose ``Origin`` names another site is refused too: a page elsewhere
on the web cannot drive the studio through the user's browser, even if it
guessed the port. The checks are one ASGI middleware, so no route can forget them.

>>> guard = TokenGuard(app, "secret")  # doctest: +SKIP
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Final
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_PARAM: Final = "token"
TOKEN_HEADER: Final = "x-iterbench-token"
TOKEN_COOKIE: Final = "iterbench_studio_token"


def new_token() -> str:
    """A fresh random token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def _headers(scope: Scope) -> dict[str, str]:
    pairs: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in pairs}


def presented_token(scope: Scope) -> str | None:
    """The token a request carries: query parameter, header or cookie, in that order."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get(TOKEN_PARAM):
        return str(query[TOKEN_PARAM][0])
    headers = _headers(scope)
    if TOKEN_HEADER in headers:
        return headers[TOKEN_HEADER]
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header carries no token
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else None


def same_origin(scope: Scope) -> bool:
    """True unless the request names an ``Origin`` other than the host it was sent to."""
    headers = _headers(scope)
    origin = headers.get("origin")
    if origin is None:
        return True  # not sent by a browser page (curl, tests); the token still applies
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == headers.get("host", "")


class TokenGuard:
    """ASGI middleware: 403 for a request without the token or from a foreign origin."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def allowed(self, scope: Scope) -> bool:
        token = presented_token(scope)
        good = token is not None and hmac.compare_digest(token.encode(), self.token.encode())
        return good and same_origin(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allowed(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # uvicorn answers 403
        else:
            await _forbidden(send)


async def _forbidden(send: Send) -> None:
    body = b'{"error": "forbidden: open the URL the studio printed (it carries the token)"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
