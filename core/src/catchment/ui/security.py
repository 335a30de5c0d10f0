"""The UI's guards: a token on every request when it listens beyond loopback, and CSRF
protection for actions (a double-submit cookie checked against the form field and the
request's own origin). Both are stateless, so a restarted server accepts what the old one
issued."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

TOKEN_ENV = "CATCHMENT_UI_TOKEN"
TOKEN_COOKIE = "catchment_ui_token"
CSRF_COOKIE = "catchment_csrf"
CSRF_FIELD = "csrf"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two present strings."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def form_fields(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as field -> last value."""
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


class TokenMiddleware:
    """Require ``token`` on every request: ``Authorization: Bearer``, the cookie, or a
    ``?token=`` query (which then sets the cookie, so a link from the terminal works)."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse

        request = Request(scope)
        auth = request.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else None
        from_query = request.query_params.get("token")
        if same(given, self.token) or same(request.cookies.get(TOKEN_COOKIE), self.token):
            await self.app(scope, receive, send)
            return
        if same(from_query, self.token):

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    cookie = f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                    message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
                await send(message)

            await self.app(scope, receive, send_with_cookie)
            return
        response = PlainTextResponse(
            f"401: this catchment ui needs its token ({TOKEN_ENV}); open it with ?token=...",
            status_code=401,
        )
        await response(scope, receive, send)
