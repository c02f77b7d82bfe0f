"""Shared steps of ticket writes: load and save a ticket, emit its transition's events, keep the
window rows in step. All run inside a `HallTx` (hall.core.tx)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update

from hall.core.tx import HallTx
from hall.errors import ApiError, conflict, not_found
from hall.store.fastsql import Fast
from hall.store.models import TicketRow, WindowRow, table
from hall.store.ticketmap import ticket_columns, ticket_from_row
from queueing.lifecycle import Transition
from queueing.tickets import IllegalMove, Ticket, TicketStatus

__all__ = [
    "T",
    "W",
    "load_ticket",
    "save_ticket",
    "base_data",
    "emit_transition",
    "load_window",
    "sync_window",
    "waiting_count",
    "illegal",
]

T = table(TicketRow)
W = table(WindowRow)

_HELD = (TicketStatus.CALLED, TicketStatus.SERVING)

# Hot statements are built once with bind parameters: building a SQLAlchemy statement costs more
# than running it on SQLite, and a prebuilt one hits the compiled cache at once.
_SAVED_COLUMNS = (
    "number", "category", "priority", "queue_class", "channel", "status", "queue_key", "target_window",
    "window", "issued_at", "called_at", "finished_at", "extra",
)
_SAVE = Fast(
    update(T)
    .where(T.c.id == bindparam("b_id"), T.c.status == bindparam("b_status"))
    .values({name: bindparam(name, type_=T.c[name].type) for name in _SAVED_COLUMNS})
)
_LOAD_TICKET = Fast(select(T).where(T.c.id == bindparam("b_id"), T.c.hall_id == bindparam("b_hall")))
_LOAD_WINDOW = Fast(select(W).where(W.c.hall_id == bindparam("b_hall"), W.c.number == bindparam("b_number")))
_RELEASE = Fast(
    update(W)
    .where(W.c.hall_id == bindparam("b_hall"), W.c.number == bindparam("b_number"), W.c.current_ticket_id == bindparam("b_ticket"))
    .values(current_ticket_id=None)
)
_RELEASE_FINISHED = Fast(
    update(W)
    .where(W.c.hall_id == bindparam("b_hall"), W.c.number == bindparam("b_number"), W.c.current_ticket_id == bindparam("b_ticket"))
    .values(current_ticket_id=None, last_finished_ticket_id=bindparam("b_ticket"))
)
_WAITING = Fast(select(func.count()).select_from(T).where(
    T.c.hall_id == bindparam("b_hall"), T.c.status == "waiting", T.c.category == bindparam("b_category")
))


def illegal(e: IllegalMove) -> ApiError:
    return conflict("illegal_move", str(e))


def load_ticket(tx: HallTx, ticket_id: int) -> Ticket:
    """The ticket of this hall with this id; raises ApiError 404."""
    row = _LOAD_TICKET.run(tx.conn, {"b_id": ticket_id, "b_hall": tx.hall.id}).first()
    if row is None:
        raise not_found("ticket", ticket_id)
    return ticket_from_row(row)


def save_ticket(tx: HallTx, old: Ticket, new: Ticket) -> None:
    """Store `new`, guarded on the status the ticket had when read: a concurrent change that
    slipped past the hall lock (it cannot, but the guard costs nothing) fails instead of being
    overwritten."""
    result = _SAVE.run(tx.conn, {"b_id": old.id, "b_status": old.status.value, **ticket_columns(new)})
    if result.rowcount != 1:
        raise conflict("changed", f"ticket {old.number} changed meanwhile; try again")


def base_data(tx: HallTx, t: Ticket) -> dict[str, Any]:
    """The fields every ticket event carries."""
    data: dict[str, Any] = {"id": t.id, "number": t.number, "category": t.category, "zone": tx.hall.zone_of(t.category)}
    if t.window is not None:
        data["window"] = t.window
        try:
            data["window_name"] = tx.hall.layout.window(t.window).name
        except KeyError:
            data["window_name"] = f"{t.window}号窗口"
    return data


def emit_transition(tx: HallTx, old: Ticket, tr: Transition, **extra: Any) -> None:
    """Save the transition's ticket and append its events (with the shared fields and `extra`)."""
    save_ticket(tx, old, tr.ticket)
    for etype, data in tr.events:
        payload = base_data(tx, tr.ticket) | {k: v for k, v in data.items() if k != "queue_key"} | extra
        if etype.value in ("ticket.called", "ticket.recalled"):
            payload["recalls"] = tr.ticket.recalls
        tx.emit(etype.value, payload, ticket_id=tr.ticket.id, window=tr.ticket.window)
    sync_window(tx, old, tr.ticket)


def sync_window(tx: HallTx, old: Ticket, new: Ticket) -> None:
    """A window holds the ticket it called until the ticket leaves called/serving."""
    if old.window is None or old.status not in _HELD or (new.status in _HELD and new.window == old.window):
        return
    stmt = _RELEASE_FINISHED if new.status is TicketStatus.FINISHED else _RELEASE
    stmt.run(tx.conn, {"b_hall": tx.hall.id, "b_number": old.window, "b_ticket": old.id})


def load_window(tx: HallTx, number: int) -> Any:
    """The window row; raises ApiError 404 for a window not in the hall's layout."""
    tx.hall.window(number)
    row = _LOAD_WINDOW.run(tx.conn, {"b_hall": tx.hall.id, "b_number": number}).first()
    if row is None or not row.active:
        raise not_found("window", number)
    return row


def waiting_count(tx: HallTx, category: str) -> int:
    return int(_WAITING.run(tx.conn, {"b_hall": tx.hall.id, "b_category": category}).scalar_one())
