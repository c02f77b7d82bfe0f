"""API errors: `{"error": code, "message": text}` with a 4xx status, and their handlers."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["ApiError", "not_found", "conflict", "invalid", "forbidden", "unauthorized", "exception_handlers"]


class ApiError(Exception):
    """An answer to send instead of a result. 4xx answers are final: clients must not retry."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def not_found(what: str, key: object) -> ApiError:
    return ApiError(404, f"unknown_{what}", f"no {what} {key!r}")


def conflict(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(409, code, message, **extra)


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(422, "invalid", message, **({"field": field} if field else {}))


def forbidden(message: str = "not allowed") -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthorized(message: str = "a valid bearer token is needed") -> ApiError:
    return ApiError(401, "unauthorized", message)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code)


async def _bad_json(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "invalid", "message": f"body is not valid JSON: {exc}"}, status_code=422)


exception_handlers: dict[Any, Any] = {
    ApiError: _api_error,
    HTTPException: _http_error,
    json.JSONDecodeError: _bad_json,
}
