"""`GET /api/halls/{hall}/accuracy?day=`: the day's estimates and forecasts scored against what
happened (hall.operations.accuracy.rules); managers only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.operations.web import in_thread, manager, now_of, parse_day
from hall.state import state_of

from . import store

__all__ = ["accuracy"]


async def accuracy(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    now = now_of(st)
    day = parse_day(request.query_params.get("day"), hall, now)

    def read() -> dict[str, object]:
        with st.db.read() as conn:
            return store.day_accuracy(conn, hall, day, now)

    return JSONResponse(await in_thread(read))
