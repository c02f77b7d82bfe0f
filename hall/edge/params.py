"""Path and query parameters at the edge: text checked once for every request and websocket
(ParamGuard), integers kept within 64 bits (the `int` path convertor, `query_int`).

A path or query that is not clean text (NUL, control characters, bytes that are not UTF-8) is
refused with 400 before routing, so that no handler, database driver or log line sees it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from hall.errors import invalid
from hall.fields import INT64_MAX, BadField, clean_text

__all__ = ["ParamGuard", "query_int", "Int64Convertor"]


class Int64Convertor(Convertor[int]):
    """Starlette's `int` with at most 18 digits: every id that matches fits in 64 bits, and a
    longer one is simply no route (404) instead of an overflow in the database driver."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


# Replaces the library's `int` for every route of the app (core, operations and pages alike),
# so no route table has to remember a custom name. Registered on import of the route table.
register_url_convertor("int", Int64Convertor())


def _text_problem(scope: Scope) -> str | None:
    raw_path = scope.get("raw_path")
    if raw_path is None:
        raw_path = scope["path"].encode("utf-8", "surrogateescape")
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
        clean_text(path, "path", newlines=False)
        query = scope.get("query_string", b"").decode("utf-8")
        for k, v in parse_qsl(query, keep_blank_values=True, errors="strict"):
            clean_text(k, "query", newlines=False)
            clean_text(v, f"query {k}", newlines=False)
    except UnicodeError:
        return "the path or query is not UTF-8 text"
    except BadField as e:
        return str(e)
    return None


class ParamGuard:
    """ASGI middleware: refuses a request whose path or query is not clean text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = _text_problem(scope)
            if problem is not None:
                await _refuse(scope, send, problem)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, problem: str) -> None:
    if scope["type"] == "websocket":
        # Before the handshake completes: the client sees an HTTP 403 refusal, never a 1006.
        await send({"type": "websocket.close", "code": 1008, "reason": "bad_parameter"})
        return
    body = json.dumps({"error": "bad_parameter", "message": problem}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def query_int(conn: HTTPConnection, name: str, default: int, *, lo: int = 0, hi: int = INT64_MAX) -> int:
    """A whole-number query parameter within [lo, hi] (default: 64 bits); 422 otherwise."""
    raw: Any = conn.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 20:
        raise invalid(f"{name} must be a whole number", name)
    value = int(raw)
    if not lo <= value <= hi:
        raise invalid(f"{name} must be between {lo} and {hi}", name)
    return value
