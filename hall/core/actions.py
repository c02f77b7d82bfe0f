"""Actions on one ticket by id (POST …/tickets/{id}/{action}); its rating is hall.operations.ratings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.core.estimate import ForecastSource, current_estimate
from hall.core.tickets import T, W, emit_transition, illegal, load_ticket
from hall.core.tx import HallTx
from hall.errors import invalid, not_found
from queueing import lifecycle
from queueing.tickets import IllegalMove, SuspendKind, Ticket

__all__ = ["ACTIONS", "ticket_action"]

ACTIONS = ("recall", "no-show", "recheck-in", "start", "finish", "transfer", "suspend", "resume", "cancel")


def ticket_action(tx: HallTx, ticket_id: int, action: str, body: dict[str, Any],
                  forecasts: ForecastSource | None = None) -> tuple[int, dict[str, Any]]:
    """Run one lifecycle move; raises ApiError 404 (ticket, action), 409 (illegal), 422 (body).
    `forecasts`: where the hall's latest forecast is, for a transferred ticket's estimate (the
    one every surface shows, hall.core.estimate)."""
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
    out = {"id": new.id, "number": new.number, "category": new.category, "status": new.status.value, "window": new.window}
    if action == "transfer":
        # The clerk hears at once when the ticket lands where nobody serves it now.
        est = current_estimate(tx.conn, tx.hall, new, now, forecasts)
        if est is not None:
            out["estimate"] = est.to_dict()
            if est.state == "no_window":
                out["warning"] = "no_window"
    return 200, out


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
