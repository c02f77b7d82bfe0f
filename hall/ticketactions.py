"""Actions on one ticket by id (POST …/tickets/{id}/{action}) and its rating (好差评)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from hall.errors import ApiError, invalid, not_found
from hall.models import Rating
from hall.ticketops import T, W, base_data, emit_transition, illegal, load_ticket
from hall.tx import HallTx
from queueing import lifecycle
from queueing.tickets import IllegalMove, SuspendKind, Ticket

__all__ = ["ACTIONS", "ticket_action", "rate_ticket"]

ACTIONS = ("recall", "no-show", "recheck-in", "start", "finish", "transfer", "suspend", "resume", "cancel")


def ticket_action(tx: HallTx, ticket_id: int, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run one lifecycle move; raises ApiError 404 (ticket, action), 409 (illegal), 422 (body)."""
    if action not in ACTIONS:
        raise not_found("action", action)
    t = load_ticket(tx, ticket_id)
    rules = tx.hall.layout.rules
    now = tx.now
    try:
        if action == "recall":
            tr = lifecycle.recall(t, now, rules)
        elif action == "no-show":
            tr = lifecycle.no_show(t, now)
        elif action == "start":
            tr = lifecycle.start(t, now)
        elif action == "finish":
            tr = lifecycle.finish(t, now)
        elif action == "recheck-in":
            tr = lifecycle.recheck_in(t, now, rules, _queue_keys(tx, t, rules.recheckin_places_back + 1))
        elif action == "transfer":
            tr = _transfer(tx, t, body)
        elif action == "suspend":
            try:
                kind = SuspendKind(body.get("kind") or "missing_papers")
            except ValueError:
                raise invalid(f"kind must be one of {', '.join(k.value for k in SuspendKind)}", "kind") from None
            tr = lifecycle.suspend(t, now, kind)
        elif action == "resume":
            tr = _resume(tx, t)
        else:
            reason = body.get("reason") or "cancelled"
            if not isinstance(reason, str) or len(reason) > 200:
                raise invalid("reason must be text of at most 200 characters", "reason")
            tr = lifecycle.cancel(t, now, reason)
    except IllegalMove as e:
        raise illegal(e) from None
    emit_transition(tx, t, tr)
    tx.audit(f"ticket.{action}", t.number, {k: v for k, v in body.items() if k in ("category", "window", "kind", "reason")})
    new = tr.ticket
    return 200, {"id": new.id, "number": new.number, "category": new.category, "status": new.status.value, "window": new.window}


def _queue_keys(tx: HallTx, t: Ticket, n: int) -> list[float]:
    rows = tx.conn.execute(
        select(T.c.queue_key)
        .where(
            T.c.hall_id == tx.hall.id, T.c.status == "waiting", T.c.category == t.category,
            T.c.queue_class == t.queue_class.value, T.c.target_window.is_(None),
        )
        .order_by(T.c.queue_key, T.c.id)
        .limit(n)
    ).scalars()
    return list(rows)


def _transfer(tx: HallTx, t: Ticket, body: dict[str, Any]) -> Any:
    category = body.get("category")
    window = body.get("window")
    if (category is None) == (window is None):
        raise invalid("give either a category or a window", "category")
    if category is not None:
        if not isinstance(category, str) or not tx.hall.has_category(category):
            raise invalid(f"unknown category {category!r}", "category")
        return lifecycle.transfer(t, tx.now, to_category=category)
    if not isinstance(window, int) or isinstance(window, bool):
        raise invalid("window must be a window number", "window")
    tx.hall.window(window)
    return lifecycle.transfer(t, tx.now, to_window=window)


def _resume(tx: HallTx, t: Ticket) -> Any:
    by = t.suspended_by
    open_ = False
    if by is not None:
        row = tx.conn.execute(select(W.c.paused, W.c.active).where(W.c.hall_id == tx.hall.id, W.c.number == by)).first()
        open_ = row is not None and row.active and not row.paused
    q = select(T.c.queue_key).where(T.c.hall_id == tx.hall.id, T.c.status == "waiting")
    if open_:
        q = q.where(T.c.target_window == by)
    else:
        q = q.where(T.c.category == t.category, T.c.queue_class == t.queue_class.value, T.c.target_window.is_(None))
    head = tx.conn.execute(q.order_by(T.c.queue_key, T.c.id).limit(1)).scalar()
    return lifecycle.resume(t, tx.now, window_open=open_, head_key=head)


def rate_ticket(tx: HallTx, ticket_id: int, body: Any) -> tuple[int, dict[str, Any]]:
    """One rating per ticket, checked by hall.operations.ratings.check_rating (the 好差评 rules)."""
    from hall.operations.config import rating_policy
    from hall.operations.ratings import (
        RatingRefused,
        RatingRequest,
        TicketFacts,
        check_rating,
    )

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
    tx.emit("ticket.rated", data, ticket_id=t.id, window=t.window)
    return 201, {"ticket": t.id, "level": checked.level, "reason_pending": checked.reason_pending}


def _served_by(tx: HallTx, ticket_id: int) -> frozenset[int]:
    """Staff signed in at the window when the ticket was called or served (from the event log)."""
    from hall.models import EventRow

    users = tx.conn.execute(
        select(EventRow.user_id).where(EventRow.ticket_id == ticket_id, EventRow.user_id.is_not(None))
    ).scalars()
    return frozenset(users)

