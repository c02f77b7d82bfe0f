"""预约 over HTTP: slots, booking, cancelling, kiosk check-in (see hall.operations.routes)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError, invalid, not_found
from hall.operations.appointments import store as appts
from hall.operations.appointments.rules import bookable_days
from hall.operations.web import (
    config_of,
    in_thread,
    now_of,
    parse_day,
    read_json,
)
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of
from hall.store.operation_models import AppointmentRow

__all__ = ["slots", "book", "cancel", "check_in"]


async def slots(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    cfg = config_of(hall)
    if request.method == "GET":
        category = request.query_params.get("category") or None
        coming = bookable_days(cfg.booking, cfg.calendar, now_of(st), cfg.tz)
        days = [d.isoformat() for d in coming]

        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                missing = appts.missing_slot_days(conn, hall, coming)
                if not missing:
                    return appts.open_slots(conn, hall.id, days, category)
            # A working day came into the booking window with no slots yet: fill it from the hours.
            with st.db.write() as conn:
                appts.ensure_slots(conn, hall, cfg, coming)
                return appts.open_slots(conn, hall.id, days, category)

        return JSONResponse({"days": days, "slots": await in_thread(read)})
    require(await principal_of(request), "manage", hall.id)
    body = await read_json(request)
    day = parse_day(str(body.get("day") or ""), hall, now_of(st)) if body.get("day") else None
    spans = body.get("slots")
    capacity = body.get("capacity")
    if day is None:
        raise invalid("day is required", "day")
    every = body.get("every_minutes")
    if spans is None and every is not None:
        # Fill the hall's opening hours (the category's own hours when it has them).
        if not isinstance(every, int) or isinstance(every, bool):
            raise invalid("every_minutes must be a whole number", "every_minutes")
        cat_code = str(body.get("category") or "")
        own = hall.layout.category(cat_code).hours if hall.has_category(cat_code) else None
        hours = own if own is not None else hall.layout.hours
        spans = [list(s) for s in appts.spans_from_hours(hours, every)]
    if not isinstance(spans, list) or not spans or not all(
        isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) and re.match(r"^\d{2}:\d{2}$", x) for x in s)
        for s in spans
    ):
        raise invalid('slots must be a list of ["HH:MM", "HH:MM"]', "slots")
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise invalid("capacity must be a whole number", "capacity")
    category = str(body.get("category") or "")

    def work() -> list[int]:
        with st.db.write() as conn:
            return appts.create_slots(conn, hall, cfg, category, date.fromisoformat(day),
                                      [(s[0], s[1]) for s in spans], capacity)

    return JSONResponse({"slots": await in_thread(work)}, status_code=201)


BOOKING_RATE = 10  # public booking/cancel requests a minute from one client address


async def _limit(request: Request, st: Any, what: str) -> None:
    """The public booking page has no login: cap requests per client address."""
    limiter = getattr(st, "limiter", None)
    if limiter is None:
        return
    who = request.client.host if request.client else "unknown"
    if not await limiter.hit(f"ops:{what}:{who}", BOOKING_RATE, now_of(st)):
        raise ApiError(429, "rate_limited", f"at most {BOOKING_RATE} requests a minute")


async def book(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    await _limit(request, st, "book")
    cfg = config_of(hall)
    body = await read_json(request)
    slot_id = body.get("slot_id")
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        raise invalid("slot_id must be a slot id", "slot_id")
    id_number = body.get("id_number") or None
    phone = body.get("phone") or None
    if id_number is not None and (not isinstance(id_number, str) or not re.match(r"^\d{17}[\dXx]$", id_number.strip())):
        raise invalid("id_number must be an 18-digit ID number", "id_number")
    if phone is not None and (not isinstance(phone, str) or not re.match(r"^1\d{10}$", phone.strip())):
        raise invalid("phone must be an 11-digit mobile number", "phone")

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            return appts.book(conn, hall, cfg, st.crypto, slot_id, str(body.get("name") or ""),
                              id_number.strip().upper() if id_number else None,
                              phone.strip() if phone else None, now_of(st))

    return JSONResponse(await in_thread(work), status_code=201)


async def cancel(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    cfg = config_of(hall)
    await _limit(request, st, "cancel")
    code = request.path_params["code"].upper()
    body = await read_json(request)
    id_number, phone = body.get("id_number"), body.get("phone")

    def work() -> None:
        with st.db.write() as conn:
            row = conn.execute(select(AppointmentRow.id_hash, AppointmentRow.phone_hash).where(
                AppointmentRow.hall_id == hall.id, AppointmentRow.code == code)).first()
            if row is None:
                raise not_found("appointment", code)
            # Only the person who booked may cancel: the code alone may have been seen by others.
            ok = (isinstance(id_number, str) and row.id_hash == st.crypto.lookup_hash(id_number, "id")) or (
                isinstance(phone, str) and row.phone_hash == st.crypto.lookup_hash(phone, "phone"))
            if not ok:
                raise ApiError(403, "forbidden", "预约人的证件号或手机号不符")
            appts.cancel(conn, hall, cfg, code, now_of(st))

    await in_thread(work)
    return JSONResponse({"code": code, "status": "cancelled"})


async def check_in(request: Request) -> Response:
    from hall.core.tx import run_write

    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "issue", hall.id)
    cfg = config_of(hall)
    body = await read_json(request)
    code = body.get("code")
    id_number = body.get("id_number")
    if code is not None and not isinstance(code, str):
        raise invalid("code must be text", "code")
    if id_number is not None and not isinstance(id_number, str):
        raise invalid("id_number must be text", "id_number")
    result = await in_thread(lambda: run_write(
        st.db, hall, p, lambda tx: appts.check_in(tx, cfg, st.crypto, code, id_number),
        idempotency_key=request.headers.get("idempotency-key"), request=f"POST {request.url.path}", now=now_of(st),
    ))
    await st.publish(result.envelopes)
    return JSONResponse(result.body, status_code=result.status)
