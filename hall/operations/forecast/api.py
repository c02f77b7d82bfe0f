"""`GET /api/halls/{hall}/forecast`: the latest forecast with its age (never computed here)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError
from hall.operations.web import manager, now_of
from hall.state import state_of

from . import rules

__all__ = ["forecast_view"]


def latest_body(st: Any, hall: Any, now: float) -> dict[str, Any] | None:
    """The latest forecast with `age_seconds` and `stale`; None when none was made yet."""
    book = getattr(st, "forecasts", None)
    latest = book.get(hall.id) if book is not None else None
    if latest is None:
        return None
    age = max(0.0, now - latest.computed_at)
    return {**latest.body, "age_seconds": round(age, 1),
            "stale": rules.is_stale(age, rules.settings_of(hall.settings))}


async def forecast_view(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    body = latest_body(st, hall, now_of(st))
    if body is None:
        raise ApiError(404, "no_forecast", "no forecast has been made for this hall yet")
    return JSONResponse(body)
