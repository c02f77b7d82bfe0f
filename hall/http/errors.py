"""How errors become answers: `{"error": code, "message": text}` with their status."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route

from hall.errors import ApiError
from hall.http.pages import error_page, is_page_path

__all__ = ["exception_handlers"]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if request.method == "GET" and is_page_path(request.url.path):
        # A person's browser asked for a page: words, not JSON (a mistyped hall reads 未找到该大厅).
        return error_page(exc, request.path_params.get("hall"))
    return JSONResponse(exc.body(), status_code=exc.status)


def _methods_for_path(routes: list[BaseRoute], scope: dict[str, Any]) -> set[str]:
    """Every method some route at this path answers: one path may be served by several routes
    (reads and writes are declared apart), and Starlette's own `Allow` names only the first."""
    found: set[str] = set()
    for route in routes:
        if isinstance(route, Mount):
            match, child = route.matches(scope)
            if match is not Match.NONE:
                found |= _methods_for_path(list(route.routes), {**scope, **child})
        elif isinstance(route, Route) and route.methods:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                found |= route.methods
    return found


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # RFC 9110 requires `Allow` on a 405, listing every method the resource supports.
        methods = _methods_for_path(list(request.app.router.routes), dict(request.scope))
        if methods:
            headers["Allow"] = ", ".join(sorted(methods))
    return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code,
                        headers=headers or None)


async def _bad_json(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "invalid", "message": f"body is not valid JSON: {exc}"}, status_code=422)


exception_handlers: dict[Any, Any] = {
    ApiError: _api_error,
    HTTPException: _http_error,
    json.JSONDecodeError: _bad_json,
}
