"""`GET /api/halls/{hall}/forecast`: the latest forecast with its age (never computed here);
`POST` asks the forecast task for a new one now and answers at once (202);
`POST …/forecast/advice/{id}/apply` applies one 潮汐 advice of the latest forecast."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.core.calling import resume_window
from hall.core.halls import effective_layout
from hall.core.tx import HallTx
from hall.edge.respond import hall_write
from hall.errors import ApiError, conflict, invalid
from hall.operations.live.store import retarget_window
from hall.operations.web import in_thread, manager, now_of, read_json
from hall.state import state_of
from hall.store.models import Hall, WindowRow
from queueing.layout import LayoutError

from . import rules

__all__ = ["forecast_view", "advice_apply"]


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


_ADVICE_ID = re.compile(r"^[0-9a-f]{1,16}-[0-9]{1,3}$")


def _check_still_holds(tx: HallTx, advice: dict[str, Any]) -> None:
    """In the write's own transaction: the hall is still as the advice found it."""
    number = advice["window"]
    if advice["apply"] == "resume":
        for n in advice["windows"]:
            row = tx.conn.execute(select(WindowRow.paused, WindowRow.staff_user_id).where(
                WindowRow.hall_id == tx.hall.id, WindowRow.number == n)).first()
            if row is None or not row.paused or row.staff_user_id is None:
                raise conflict("advice_stale", f"window {n} is no longer paused with its clerk there")
    else:
        # the layout as stored now, overrides included (another process may have moved it)
        source = tx.conn.execute(select(Hall.layout).where(Hall.id == tx.hall.id)).scalar_one()
        try:
            serves = sorted(effective_layout(tx.conn, tx.hall.id, source).window(number).categories)
        except (KeyError, LayoutError):
            serves = []
        if serves != advice["expects"].get("serves"):
            raise conflict("advice_stale", f"window {number} serves other categories since the forecast")


async def advice_apply(request: Request) -> Response:
    """POST …/forecast/advice/{id}/apply: the advice's move through the same core action a
    manual change uses (resume a paused window; 潮汐 retarget), audited, in one hall write.
    409 `advice_stale` when the forecast was replaced or is stale, or the hall changed since;
    409 `advice_manual` when a person has to do it (send a clerk, move a lunch)."""
    hall, p = await manager(request)
    st = state_of(request)
    body = await read_json(request)
    advice_id = request.path_params["id"]
    if not _ADVICE_ID.match(advice_id):
        raise invalid("not an advice id", "id")
    book = getattr(st, "forecasts", None)
    latest = book.get(hall.id) if book is not None else None
    now = now_of(st)
    advice = next((a for a in (latest.body.get("advice") or []) if a["id"] == advice_id),
                  None) if latest is not None else None
    if latest is None or advice is None:
        raise conflict("advice_stale", "the forecast this advice came from has been replaced")
    if rules.is_stale(now - latest.computed_at, rules.settings_of(hall.settings)):
        raise conflict("advice_stale", "the forecast this advice came from is stale")
    if advice["apply"] is None:
        raise conflict("advice_manual", "this advice needs a person: it has no button")

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        _check_still_holds(tx, advice)
        out: Any
        if advice["apply"] == "resume":
            done = [resume_window(tx, int(n), by_manager=True)[1] for n in advice["windows"]]
            out = done[0] if len(done) == 1 else done
        else:
            try:
                _, out = retarget_window(tx, int(advice["window"]), list(advice["categories"]))
            except LayoutError as e:
                raise ApiError(422, "invalid", str(e)) from None
        tx.audit("forecast.advice", advice_id, {
            "kind": advice["kind"], "windows": advice["windows"], "hour": advice["hour"],
            "service_level": advice["service_level"], "computed_at": latest.computed_at})
        return 200, {"advice": advice_id, "kind": advice["kind"], "applied": out}

    result, response = await hall_write(request, hall, p, work, body.get("idempotency_key"))
    if result.envelopes and not result.replayed:
        if advice["apply"] == "retarget":
            await in_thread(st.registry.refresh)  # this process's next call follows at once
        loop = getattr(st, "forecast", None)
        if loop is not None:  # the hall changed: a forecast of it as it is now
            loop.request(hall)
    return response
