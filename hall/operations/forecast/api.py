"""`GET /api/halls/{hall}/forecast`: the latest forecast with its age (never computed here);
`POST` asks the forecast task for a new one now and answers at once (202)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError
from hall.operations.web import manager, now_of, read_json
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
    loop = getattr(st, "forecast", None)
    return {**latest.body, "age_seconds": round(age, 1),
            "stale": rules.is_stale(age, rules.settings_of(hall.settings)),
            "running": bool(loop is not None and loop.running(hall.id))}


async def forecast_view(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    if request.method == "POST":  # recompute now, off the request path: answer at once
        await read_json(request)  # no fields, but a body with bad text is refused like any write's
        loop = getattr(st, "forecast", None)
        if loop is None:
            raise ApiError(503, "forecast_unavailable", "the forecast task is not running")
        return JSONResponse({"started": loop.request(hall)}, status_code=202)
    body = latest_body(st, hall, now_of(st))
    if body is None:
        raise ApiError(404, "no_forecast", "no forecast has been made for this hall yet")
    return JSONResponse(body)
