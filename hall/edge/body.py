"""The one body parser of the HTTP API: a JSON object or nothing."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from hall.errors import invalid

__all__ = ["read_json"]


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`); ApiError 422 otherwise."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise invalid(f"body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    return body
