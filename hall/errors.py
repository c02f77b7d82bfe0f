"""API errors: `{"error": code, "message": text}` with a 4xx status (raised anywhere in the server;
turned into answers by hall.http.errors)."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "not_found", "conflict", "invalid", "forbidden", "unauthorized"]


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
