"""预约 in the database: slots, booking, cancelling, kiosk check-in and no-shows (sync).

Real name, ID number and phone are stored only encrypted with the server's `PersonalData`
helper; the ID number (else the phone) is also stored as a keyed hash, which enforces one booking
per person per day and lets the kiosk find a booking by ID card without decrypting anything.

Check-in (`check_in`, inside the server's hall transaction) follows `booking.check_in_kind`:
on time → the server's issue path with `appointment_code` (appointment queue class, ordered by
slot start); late → a walk-in ticket of the same category and the booking marked `late`;
too early → refused. `sweep_no_shows` marks bookings never checked in as `no_show`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hall.core.estimate import ForecastSource
from hall.core.hours import open_day
from hall.core.issuing import CheckedIn, IssueRequest, issue_ticket
from hall.core.registry import HallInfo
from hall.core.tx import HallTx
from hall.errors import ApiError, conflict, invalid, not_found
from hall.operations.appointments.rules import (
    BookingRefused,
    CheckIn,
    check_booking,
    check_cancel,
    check_in_kind,
)
from hall.operations.config import OpsConfig
from hall.security.crypto import PersonalData
from hall.store.operation_models import AppointmentRow, SlotRow
from queueing.tickets import Channel, PriorityClass

__all__ = [
    "issue_by_code",
    "spans_from_hours",
    "create_slots",
    "ensure_slots",
    "missing_slot_days",
    "open_slots",
    "book",
    "cancel",
    "check_in",
    "sweep_no_shows",
    "refused",
]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed at kiosks


def refused(e: BookingRefused) -> ApiError:
    status = 409 if e.code in ("slot_full", "slot_closed", "one_per_day", "too_late_to_cancel", "not_booked") else 422
    return ApiError(status, e.code, e.message)


def _instant(day: date, hhmm: str, cfg: OpsConfig) -> float:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hh, mm), cfg.tz).timestamp()


def create_slots(
    conn: Connection, hall: HallInfo, cfg: OpsConfig, category: str, day: date,
    spans: list[tuple[str, str]], capacity: int,
) -> list[int]:
    """Add slots (`[("09:00", "09:30"), …]`, hall-local) of a category on a day; existing ones
    (same start) get the new capacity. Returns the slot ids."""
    if not hall.has_category(category):
        raise invalid(f"unknown category {category!r}", "category")
    if capacity < 0:
        raise invalid("capacity must be 0 (closed) or more", "capacity")
    ids = []
    for start, end in spans:
        s, e = _instant(day, start, cfg), _instant(day, end, cfg)
        if e <= s:
            raise invalid(f"slot {start}-{end} ends before it starts", "slots")
        row = conn.execute(
            select(SlotRow.id).where(SlotRow.hall_id == hall.id, SlotRow.category == category, SlotRow.start_at == s)
        ).first()
        if row:
            conn.execute(update(SlotRow).where(SlotRow.id == row.id).values(capacity=capacity, end_at=e))
            ids.append(row.id)
        else:
            ids.append(conn.execute(
                insert(SlotRow).values(hall_id=hall.id, category=category, day=day.isoformat(), start_at=s,
                                       end_at=e, capacity=capacity, booked=0).returning(SlotRow.id)
            ).scalar_one())
    return ids


def spans_from_hours(hours: Any, every_minutes: int) -> list[tuple[str, str]]:
    """Slots of `every_minutes` filling the hall's opening periods (none across the lunch break;
    a period's remainder shorter than a slot is left out)."""
    if every_minutes < 5:
        raise invalid("every_minutes must be at least 5", "every_minutes")
    out = []
    for p in hours.periods:
        t = p.start
        while t + every_minutes <= p.end:
            out.append((f"{t // 60:02d}:{t % 60:02d}", f"{(t + every_minutes) // 60:02d}:{(t + every_minutes) % 60:02d}"))
            t += every_minutes
    return out


def _days_with_slots(conn: Connection, hall_id: int, days: list[date]) -> set[tuple[str, str]]:
    """(day, category) pairs among `days` that have at least one slot (closed ones count)."""
    rows = conn.execute(
        select(SlotRow.day, SlotRow.category)
        .where(SlotRow.hall_id == hall_id, SlotRow.day.in_([d.isoformat() for d in days])).distinct()
    )
    return {(d, c) for d, c in rows}


def ensure_slots(conn: Connection, hall: HallInfo, cfg: OpsConfig, days: list[date]) -> int:
    """Give every category the slots of its opening hours on each of `days` that has none of
    that category yet (a fresh hall books out of the box; a manager's changes are kept).
    Returns how many slots were added."""
    have = _days_with_slots(conn, hall.id, days)
    added = 0
    for category in hall.layout.categories:
        hours = category.hours or hall.layout.hours
        spans = spans_from_hours(hours, cfg.booking.slot_minutes)
        for day in days:
            if (day.isoformat(), category.code) in have or not spans:
                continue
            if not open_day(hours, day, cfg.calendar):
                continue
            added += len(create_slots(conn, hall, cfg, category.code, day, spans, cfg.booking.slot_capacity))
    return added


def missing_slot_days(conn: Connection, hall: HallInfo, days: list[date]) -> bool:
    """Whether some category has no slots on one of `days` (then `ensure_slots` has work)."""
    have = _days_with_slots(conn, hall.id, days)
    return any((d.isoformat(), c.code) not in have for d in days for c in hall.layout.categories)


def open_slots(conn: Connection, hall_id: int, days: list[str], category: str | None = None) -> list[dict[str, Any]]:
    query = select(SlotRow).where(SlotRow.hall_id == hall_id, SlotRow.day.in_(days))
    if category:
        query = query.where(SlotRow.category == category)
    return [
        {"id": r.id, "category": r.category, "day": r.day, "start_at": r.start_at, "end_at": r.end_at,
         "capacity": r.capacity, "booked": r.booked, "left": max(0, r.capacity - r.booked)}
        for r in conn.execute(query.order_by(SlotRow.start_at, SlotRow.category))
    ]


def _new_code(conn: Connection) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if conn.execute(select(AppointmentRow.id).where(AppointmentRow.code == code)).first() is None:
            return code


def book(
    conn: Connection, hall: HallInfo, cfg: OpsConfig, crypto: PersonalData, slot_id: int,
    name: str, id_number: str | None, phone: str | None, now: float,
) -> dict[str, Any]:
    """Book a slot; returns {code, slot…}. Raises ApiError (BookingRefused codes, 404, 422)."""
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise invalid("a real name (at most 50 characters) is needed", "name")
    if not id_number and not phone:
        raise invalid("give an ID number or a phone number", "id_number")
    slot = conn.execute(
        select(SlotRow).where(SlotRow.id == slot_id, SlotRow.hall_id == hall.id).with_for_update()
    ).first()
    if slot is None:
        raise not_found("slot", slot_id)
    id_hash = crypto.lookup_hash(id_number, "id") if id_number else None
    phone_hash = crypto.lookup_hash(phone, "phone") if phone else None
    person = id_hash or phone_hash
    assert person is not None
    same_day = conn.execute(
        select(AppointmentRow.id).where(
            AppointmentRow.hall_id == hall.id, AppointmentRow.day == slot.day,
            AppointmentRow.person_hash == person, AppointmentRow.status.in_(["booked", "checked_in"]),
        )
    ).first()
    try:
        check_booking(cfg.booking, cfg.calendar, cfg.tz, now, slot.start_at, slot.capacity, slot.booked,
                      same_day is not None)
    except BookingRefused as e:
        raise refused(e) from None
    # Guarded: two bookings racing for the last place cannot both pass.
    taken = conn.execute(
        update(SlotRow).where(SlotRow.id == slot.id, SlotRow.booked < SlotRow.capacity)
        .values(booked=SlotRow.booked + 1)
    ).rowcount
    if taken != 1:
        raise conflict("slot_full", "该时段已约满")
    code = _new_code(conn)
    conn.execute(insert(AppointmentRow).values(
        hall_id=hall.id, slot_id=slot.id, code=code, category=slot.category, day=slot.day,
        start_at=slot.start_at, end_at=slot.end_at, name_enc=crypto.encrypt(name, "name"),
        id_hash=id_hash, id_enc=crypto.encrypt(id_number, "id") if id_number else None,
        phone_hash=phone_hash, phone_enc=crypto.encrypt(phone, "phone") if phone else None,
        person_hash=person, status="booked", created_at=now, changed_at=now,
    ))
    return {"code": code, "category": slot.category, "day": slot.day, "start_at": slot.start_at,
            "end_at": slot.end_at, "status": "booked"}


def cancel(conn: Connection, hall: HallInfo, cfg: OpsConfig, code: str, now: float) -> None:
    row = conn.execute(
        select(AppointmentRow).where(AppointmentRow.hall_id == hall.id, AppointmentRow.code == code).with_for_update()
    ).first()
    if row is None:
        raise not_found("appointment", code)
    try:
        check_cancel(cfg.booking, now, row.start_at, row.status)
    except BookingRefused as e:
        raise refused(e) from None
    conn.execute(update(AppointmentRow).where(AppointmentRow.id == row.id).values(status="cancelled", changed_at=now))
    conn.execute(update(SlotRow).where(SlotRow.id == row.slot_id).values(booked=SlotRow.booked - 1))


def issue_by_code(tx: HallTx, req: IssueRequest, crypto: PersonalData,
                  forecasts: ForecastSource | None = None) -> tuple[int, dict[str, Any]]:
    """The issue path with an `appointment_code` (POST …/tickets): check the booking in by the
    hall's rules (on time → appointment class by slot start; late → a walk-in of its category;
    too early → refused) and issue its ticket, in the caller's hall transaction."""
    assert req.appointment_code is not None
    row = tx.conn.execute(
        select(AppointmentRow).where(AppointmentRow.hall_id == tx.hall.id, AppointmentRow.code == req.appointment_code)
    ).first()
    if row is None:
        raise ApiError(404, "unknown_appointment", f"no appointment {req.appointment_code!r}")
    if row.status not in ("booked", "late"):
        raise conflict("appointment_used", f"appointment {req.appointment_code} is {row.status}")
    try:
        cfg = OpsConfig.build(tx.hall.layout, tx.hall.settings)
    except ValueError:
        cfg = OpsConfig.build(tx.hall.layout, {})
    status, body, _ = _issue_for(tx, crypto, cfg, row, req, forecasts)
    return status, body


def _issue_for(
    tx: HallTx, crypto: PersonalData, cfg: OpsConfig, row: Any, req: IssueRequest | None = None,
    forecasts: ForecastSource | None = None,
) -> tuple[int, dict[str, Any], CheckIn]:
    try:
        kind = check_in_kind(cfg.booking, tx.now, row.start_at)
    except BookingRefused as e:
        raise refused(e) from None
    req = req or IssueRequest(None, PriorityClass.NORMAL, Channel.APPOINTMENT, (), None, None, None)
    req = replace(req, appointment_code=None)
    slot_start = row.start_at if kind is CheckIn.ON_TIME else None
    status, body = issue_ticket(tx, req, crypto, CheckedIn(row.category, slot_start), forecasts)
    tx.conn.execute(
        update(AppointmentRow).where(AppointmentRow.id == row.id)
        .values(status="checked_in" if kind is CheckIn.ON_TIME else "late", ticket_id=body["id"], changed_at=tx.now)
    )
    return status, body, kind


def check_in(tx: HallTx, cfg: OpsConfig, crypto: PersonalData, code: str | None, id_number: str | None) -> tuple[int, dict[str, Any]]:
    """Kiosk check-in (by code or ID card) inside a `hall.core.tx.HallTx`; returns (201, the
    issued ticket + `check_in`)."""
    conn, hall, now = tx.conn, tx.hall, tx.now
    query = select(AppointmentRow).where(AppointmentRow.hall_id == hall.id, AppointmentRow.status == "booked")
    if code:
        query = query.where(AppointmentRow.code == code.strip().upper())
    elif id_number:
        today = datetime.fromtimestamp(now, cfg.tz).date().isoformat()
        query = query.where(AppointmentRow.day == today, AppointmentRow.id_hash == crypto.lookup_hash(id_number, "id"))
    else:
        raise invalid("give the appointment code or the ID number", "code")
    row = conn.execute(query.order_by(AppointmentRow.start_at).limit(1)).first()
    if row is None:
        raise ApiError(404, "unknown_appointment", "没有找到可签到的预约")
    status, body, kind = _issue_for(tx, crypto, cfg, row)
    return status, {**body, "check_in": kind.value, "appointment": row.code}


def sweep_no_shows(conn: Connection, hall_id: int, cfg: OpsConfig, now: float) -> int:
    """Mark bookings whose check-in window closed as no-shows; returns how many."""
    limit = now - cfg.booking.late_minutes * 60
    return conn.execute(
        update(AppointmentRow)
        .where(AppointmentRow.hall_id == hall_id, AppointmentRow.status == "booked", AppointmentRow.start_at < limit)
        .values(status="no_show", changed_at=now)
    ).rowcount
