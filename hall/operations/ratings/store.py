"""Storing a rating (好差评) inside the hall transaction: one per ticket, checked by the rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from hall.core.events import EventType
from hall.core.tickets import base_data, load_ticket, load_window
from hall.core.tx import HallTx
from hall.errors import ApiError, invalid
from hall.operations.config import rating_policy
from hall.operations.ratings.rules import (
    RaterFacts,
    RatingRefused,
    RatingRequest,
    TicketFacts,
    check_rater,
    check_rating,
)
from hall.store.models import EventRow, Rating

__all__ = ["rate_ticket"]


def rate_ticket(tx: HallTx, ticket_id: int, body: Any) -> tuple[int, dict[str, Any]]:
    """One rating per ticket, checked by hall.operations.ratings.rules.check_rating (the 好差评 rules)."""
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    level = body.get("level")
    reasons = body.get("reasons") or []
    indicators = body.get("indicators") or {}
    if not isinstance(level, int) or isinstance(level, bool):
        raise invalid("level must be a whole number 1..5", "level")
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise invalid("reasons must be a list of texts", "reasons")
    if not isinstance(indicators, dict):
        raise invalid("indicators must be an object", "indicators")
    t = load_ticket(tx, ticket_id)
    try:
        check_rater(_rater(tx, body), t.id)
    except RatingRefused as e:
        raise ApiError(403, e.code, e.message) from None
    already = tx.conn.execute(select(Rating.id).where(Rating.ticket_id == t.id)).first() is not None
    served_by = _served_by(tx, t.id)
    p = tx.principal
    request = RatingRequest(
        level=level, channel=str(body.get("channel") or "pad"), reasons=tuple(reasons), indicators=indicators,
        rater_staff_id=p.user_id if p else None,
    )
    facts = TicketFacts(t.status.value, t.finished_at, served_by, already)
    try:
        checked = check_rating(request, facts, rating_policy(tx.hall), tx.now)
    except RatingRefused as e:
        status = 409 if e.code in ("already_rated", "not_finished", "period_over", "own_ticket") else 422
        raise ApiError(status, e.code, e.message) from None
    staff = _last_server(tx, t.id)
    tx.conn.execute(
        insert(Rating).values(
            hall_id=tx.hall.id, ticket_id=t.id, level=checked.level, reasons=list(checked.reasons),
            indicators=checked.indicators, reason_pending=checked.reason_pending, channel=checked.channel.value,
            window=t.window, staff_user_id=staff, at=tx.now,
        )
    )
    data = base_data(tx, t) | {
        "level": checked.level, "reasons": list(checked.reasons), "channel": checked.channel.value,
        "reason_pending": checked.reason_pending,
    }
    tx.emit(EventType.TICKET_RATED, data, ticket_id=t.id, window=t.window)
    return 201, {"ticket": t.id, "level": checked.level, "reason_pending": checked.reason_pending}


def _rater(tx: HallTx, body: dict[str, Any]) -> RaterFacts:
    """Who rates: the person (no principal: the API checked their progress token), a user, or a
    device with the window it rates for and what that window finished last."""
    p = tx.principal
    if p is None:
        return RaterFacts("person")
    if p.kind == "user":
        return RaterFacts("user")
    named = body.get("window")
    if named is not None and (not isinstance(named, int) or isinstance(named, bool)):
        raise invalid("window must be a window number", "window")
    if p.role == "pad":
        if named is not None and named != p.window:
            raise ApiError(403, "not_your_window", f"this pad belongs to window {p.window}, not {named}")
        window = p.window
    elif p.role == "bridge":
        window = named  # a bridge drives the pads of many windows: it names the one pressed
    else:
        return RaterFacts(p.role)
    last = load_window(tx, window).last_finished_ticket_id if window is not None else None
    return RaterFacts(p.role, window, last)


def _last_server(tx: HallTx, ticket_id: int) -> int | None:
    """The staff member of the ticket's latest call, start or finish made with a staff login:
    the one who served this person (a 差评整改 case is opened against them)."""
    return tx.conn.execute(
        select(EventRow.user_id)
        .where(
            EventRow.ticket_id == ticket_id, EventRow.user_id.is_not(None),
            EventRow.type.in_([EventType.TICKET_CALLED.value, EventType.TICKET_STARTED.value,
                               EventType.TICKET_FINISHED.value, EventType.TICKET_RECALLED.value]),
        )
        .order_by(EventRow.seq.desc())
        .limit(1)
    ).scalar()


def _served_by(tx: HallTx, ticket_id: int) -> frozenset[int]:
    """Staff signed in at the window when the ticket was called or served (from the event log)."""
    users = tx.conn.execute(
        select(EventRow.user_id).where(EventRow.ticket_id == ticket_id, EventRow.user_id.is_not(None))
    ).scalars()
    return frozenset(u for u in users if u is not None)

