"""Issuing a ticket (取号): validation, the one-waiting-ticket rule, numbering, the estimate."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from hall.core.calendar import hall_calendar
from hall.core.estimate import ForecastSource, give_at_issue
from hall.core.events import EventType, iso
from hall.core.hours import opening
from hall.core.queries import estimate_and_waiting, issued_today
from hall.core.tickets import T, base_data, count_waiting
from hall.core.tx import HallTx
from hall.errors import conflict, invalid
from hall.security.auth import token_hash
from hall.security.crypto import PersonalData
from hall.store.fastsql import Fast
from hall.store.models import Matter, NumberCounter, table
from hall.store.ticketmap import ticket_columns
from queueing import lifecycle
from queueing.numbering import format_number, hall_day, printed_prefix
from queueing.tickets import Channel, PriorityClass, queue_class

__all__ = ["CheckedIn", "IssueRequest", "parse_issue", "issue_ticket", "progress_path", "booking_path"]

# Prebuilt statements (see hall.core.tickets for why).
_NC = table(NumberCounter)
_BUMP_NUMBER = Fast(
    update(_NC)
    .where(_NC.c.hall_id == bindparam("b_hall"), _NC.c.day == bindparam("b_day"), _NC.c.prefix == bindparam("b_prefix"))
    .values(last=_NC.c.last + 1)
    .returning(_NC.c.last)
)
_NEW_NUMBER = _NC.insert()
_INSERT_TICKET = Fast(T.insert().returning(T.c.id))


_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_PHONE = re.compile(r"^1\d{10}$")


def progress_path(token: str) -> str:
    """The person's mobile progress page (served by hall.http.pages)."""
    return f"/t/{token}"


@dataclass(frozen=True, slots=True)
class IssueRequest:
    category: str | None
    priority: PriorityClass
    channel: Channel
    matters: tuple[str, ...]
    appointment_code: str | None
    id_number: str | None
    phone: str | None


def parse_issue(body: Any) -> IssueRequest:
    """Validate a POST …/tickets body; raises ApiError 422 naming the bad field."""
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    category = body.get("category")
    if category is not None and not isinstance(category, str):
        raise invalid("category must be a category code", "category")
    try:
        priority = PriorityClass(body.get("priority") or "normal")
    except ValueError:
        raise invalid(f"priority must be one of {', '.join(p.value for p in PriorityClass)}", "priority") from None
    try:
        channel = Channel(body.get("channel") or "kiosk")
    except ValueError:
        raise invalid(f"channel must be one of {', '.join(c.value for c in Channel)}", "channel") from None
    matters = body.get("matters") or []
    if not isinstance(matters, list) or not all(isinstance(m, str) for m in matters) or len(matters) > 20:
        raise invalid("matters must be a list of matter codes (at most 20)", "matters")
    code = body.get("appointment_code")
    if code is not None and not isinstance(code, str):
        raise invalid("appointment_code must be text", "appointment_code")
    id_number = body.get("id_number")
    if id_number is not None and (not isinstance(id_number, str) or not _ID_NUMBER.match(id_number.strip())):
        raise invalid("id_number must be an 18-digit ID number", "id_number")
    phone = body.get("phone")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone.strip())):
        raise invalid("phone must be an 11-digit mobile number", "phone")
    if category is None and not matters and not code:
        raise invalid("give a category, a matter or an appointment code", "category")
    return IssueRequest(
        category, priority, channel, tuple(matters), code,
        id_number.strip().upper() if id_number else None, phone.strip() if phone else None,
    )


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """An appointment its owner (hall.operations.appointments) has already checked in: the
    ticket takes its category, and its slot start when on time (None: late, a walk-in)."""

    category: str
    slot_start: float | None


def issue_ticket(
    tx: HallTx, req: IssueRequest, crypto: PersonalData, appointment: CheckedIn | None = None,
    forecasts: ForecastSource | None = None,
) -> tuple[int, dict[str, Any]]:
    """Create the ticket inside `tx`; returns (201, body). `appointment`: a booking checked in
    for this ticket (the caller links the booking to the returned ticket id); `forecasts`: where
    the hall's latest live forecast is (hall.core.estimate), else the analytic estimate is given."""
    hall, conn, now = tx.hall, tx.conn, tx.now
    category = req.category
    matters = req.matters
    if matters:
        found = dict(
            conn.execute(select(Matter.code, Matter.category).where(Matter.hall_id == hall.id, Matter.code.in_(matters))).all()
        )
        missing = [m for m in matters if m not in found]
        if missing:
            raise invalid(f"unknown matter {missing[0]!r}", "matters")
        category = category or found[matters[0]]
    appointment_start = None
    channel = req.channel
    if appointment is not None:
        category = category or appointment.category
        appointment_start = appointment.slot_start
        channel = Channel.APPOINTMENT
    elif req.appointment_code:
        raise invalid("an appointment code is checked in by the appointments store", "appointment_code")
    assert category is not None
    if not hall.has_category(category):
        raise invalid(f"unknown category {category!r}", "category")
    cat = hall.layout.category(category)
    _check_open(tx, category)

    person_hash = crypto.lookup_hash(req.id_number, "id") if req.id_number else None
    phone_hash = crypto.lookup_hash(req.phone, "phone") if req.phone else None
    if hall.layout.rules.one_waiting_ticket_per_person and (person_hash or phone_hash):
        same = []
        if person_hash:
            same.append(T.c.person_hash == person_hash)
        if phone_hash:
            same.append(T.c.phone_hash == phone_hash)
        dup = conn.execute(
            select(T.c.number).where(T.c.hall_id == hall.id, T.c.category == category, T.c.status == "waiting", or_(*same)).limit(1)
        ).first()
        if dup is not None:
            raise conflict("already_waiting", f"这位办事人已有本类别的等候号 {dup.number}", number=dup.number)

    day = hall_day(now, hall.timezone).isoformat()
    if cat.daily_cap is not None:
        if issued_today(conn, hall, day, category) >= cat.daily_cap:
            raise conflict("daily_cap", f"{cat.name}今日号已取完 ({cat.daily_cap})", category=category,
                           next_open_at=_next_day_open(tx, category), booking_url=booking_path(hall.code))

    klass = queue_class(req.priority, appointment_start)
    prefix = printed_prefix(category, klass, hall.layout.rules)
    seq = _next_number(tx, day, prefix)
    number = format_number(prefix, seq)
    tr = lifecycle.issue(
        0, number, category, now, priority=req.priority, channel=channel,
        appointment_start=appointment_start, matters=matters,
    )
    token = secrets.token_urlsafe(24)
    p = tx.principal
    ticket_id = _INSERT_TICKET.run(
        conn,
        {
            "hall_id": hall.id, "day": day, "progress_token": token_hash(token),  # like every token: its hash only
            "person_hash": person_hash, "person_enc": crypto.encrypt(req.id_number, "id") if req.id_number else None,
            "phone_hash": phone_hash, "phone_enc": crypto.encrypt(req.phone, "phone") if req.phone else None,
            "device_id": p.device_id if p else None,
            **ticket_columns(tr.ticket),
        },
    ).scalar_one()
    ticket = replace(tr.ticket, id=ticket_id)
    count_waiting(tx, None, ticket)

    # The category's waiting count and the estimate's figures in one round trip (issue 14).
    figures, waiting = estimate_and_waiting(conn, hall, ticket, now)
    # The estimate given is a fact: it goes into the issued event, where the printed ticket,
    # the export and the scoring of estimates (score_estimates) all find the same one.
    est = give_at_issue(conn, hall, ticket, day, now, forecasts, figures, later=tx.later)
    data = base_data(tx, ticket) | {
        "queue_class": klass.value, "waiting": waiting, "channel": channel.value, "priority": req.priority.value,
        "appointment_start": appointment_start, "progress_url": progress_path(token),
        "device": p.name if p and p.kind == "device" else None,
        "ahead": est.ahead, "estimate": est.to_dict(),
    }
    tx.emit(EventType.TICKET_ISSUED, data, ticket_id=ticket_id)
    tx.audit("ticket.issue", number)
    body = {
        "id": ticket_id, "number": number, "category": category, "status": ticket.status.value,
        "queue_class": klass.value, "ahead": est.ahead,
        "eta": {"p50_minutes": est.p50_minutes, "p90_minutes": est.p90_minutes}, "estimate": est.to_dict(),
        "issued_at": _iso(tx, now), "progress_token": token, "progress_url": progress_path(token),
        "hall": {"code": hall.code, "name": hall.name}, "category_name": cat.name,
    }
    return 201, body


def _iso(tx: HallTx, instant: float) -> str:
    return iso(instant, tx.hall.tz)


def booking_path(hall_code: str) -> str:
    """The public booking page (served by hall.operations.views)."""
    return f"/book/{hall_code}"


def _check_open(tx: HallTx, category: str) -> None:
    """Refuse (409, the closed state as code) outside the hours that bind `category`."""
    hall = tx.hall
    state = opening(hall.layout, category, tx.now, hall_calendar(hall.settings))
    if state.is_open:
        return
    raise conflict(
        state.state.value, f"{category} gives no numbers now ({state.state.value})", category=category,
        next_open_at=_iso(tx, state.next_open) if state.next_open is not None else None,
        booking_url=booking_path(hall.code),
    )


def _next_day_open(tx: HallTx, category: str) -> str | None:
    """When numbers are given again after today's are all taken: the next working day's opening."""
    hall = tx.hall
    cal = hall_calendar(hall.settings)
    local = datetime.fromtimestamp(tx.now, hall.tz)
    night = datetime.combine(local.date(), time(23, 59, 59), hall.tz).timestamp()
    state = opening(hall.layout, category, night, cal)
    return _iso(tx, state.next_open) if state.next_open is not None else None


def _next_number(tx: HallTx, day: str, prefix: str) -> int:
    hall_id = tx.hall.id
    row = _BUMP_NUMBER.run(tx.conn, {"b_hall": hall_id, "b_day": day, "b_prefix": prefix}).first()
    if row is not None:
        return int(row[0])
    tx.conn.execute(_NEW_NUMBER, {"hall_id": hall_id, "day": day, "prefix": prefix, "last": 1})
    return 1
