"""How errors become answers: `{"error": code, "message": text}` with their status."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError
from hall.http.pages import error_page, is_page_path

__all__ = ["exception_handlers"]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if request.method == "GET" and is_page_path(request.url.path):
        # A person's browser asked for a page: words, not JSON (a mistyped hall reads 未找到该大厅).
        return error_page(exc, request.path_params.get("hall"))
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    # The exception's headers carry `Allow` on a 405 (RFC 9110 requires it).
    return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _bad_json(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "invalid", "message": f"body is not valid JSON: {exc}"}, status_code=422)


exception_handlers: dict[Any, Any] = {
    ApiError: _api_error,
    HTTPException: _http_error,
    json.JSONDecodeError: _bad_json,
}
