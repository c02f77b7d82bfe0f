"""Storing a rating (好差评) inside the hall transaction: one per ticket, checked by the rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from hall.core.events import EventType
from hall.core.tickets import base_data, load_ticket
from hall.core.tx import HallTx
from hall.errors import ApiError, invalid
from hall.operations.config import rating_policy
from hall.operations.ratings.rules import RatingRefused, RatingRequest, TicketFacts, check_rating
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
    staff = next(iter(served_by), None)
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


def _served_by(tx: HallTx, ticket_id: int) -> frozenset[int]:
    """Staff signed in at the window when the ticket was called or served (from the event log)."""
    users = tx.conn.execute(
        select(EventRow.user_id).where(EventRow.ticket_id == ticket_id, EventRow.user_id.is_not(None))
    ).scalars()
    return frozenset(u for u in users if u is not None)

