"""Where a request's token comes from, the pages' session cookie, and its CSRF check.

Staff, manager and planner pages never hold their login token: `POST /api/auth/login` also sets
it as an HttpOnly cookie (SameSite=Strict, Secure when served over TLS), so no script, link,
address bar or access log ever sees it. A cookie rides along on every same-site request, so a
write authenticated by the cookie must also carry the CSRF token (double submit: the readable
`hall_csrf` cookie echoed in the `X-CSRF-Token` header, which another site can neither read
nor set). A websocket handshake cannot carry that header: the cookie counts there only when the
handshake's Origin is this server.

Machines (the bridge, scripts, tests) keep sending `Authorization: Bearer T` — no cookie, so no
CSRF check. `?token=` remains for what cannot send a header (a device page's `<audio src>`,
links printed before); the access log redacts it (hall.security.logredact).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response

from hall.errors import ApiError

__all__ = [
    "SESSION_COOKIE",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "request_token",
    "check_csrf",
    "set_session",
    "clear_session",
]

SESSION_COOKIE = "hall_session"
CSRF_COOKIE = "hall_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

Source = Literal["header", "cookie", "query", "none"]


def request_token(conn: HTTPConnection) -> tuple[str | None, Source]:
    """The bearer token of a request or websocket and where it came from."""
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return (auth[7:].strip() or None), "header"
    # A token named in the request itself wins over the ambient cookie (an old link opened
    # in a browser logged in as someone else means that link's account).
    query = conn.query_params.get("token")
    if query:
        return query, "query"
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie and _cookie_allowed(conn):
        return cookie, "cookie"
    return None, "none"


def _cookie_allowed(conn: HTTPConnection) -> bool:
    if conn.scope["type"] != "websocket":
        return True
    # Cross-site websocket hijacking: a page elsewhere may open a socket to us, and the
    # browser would attach the cookie; only our own pages' handshakes count.
    origin = conn.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = conn.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


def check_csrf(conn: HTTPConnection) -> None:
    """ApiError 403 `csrf_failed` for a cookie-authenticated write without the matching header."""
    method = conn.scope.get("method", "GET")
    if conn.scope["type"] != "http" or method in _SAFE:
        return
    sent = conn.headers.get(CSRF_HEADER, "")
    expected = conn.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise ApiError(403, "csrf_failed", "a write with the session cookie needs the X-CSRF-Token header")


def _secure(conn: HTTPConnection) -> bool:
    return conn.url.scheme in ("https", "wss") or conn.headers.get("x-forwarded-proto", "") == "https"


def set_session(conn: HTTPConnection, response: Response, token: str, max_age: int) -> None:
    """Give the browser the login token as an HttpOnly cookie and a fresh CSRF token beside it."""
    secure = _secure(conn)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=secure)
    # Readable by our scripts (they echo it in X-CSRF-Token); worthless without the session.
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), max_age=max_age, path="/", httponly=False,
                        samesite="strict", secure=secure)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
