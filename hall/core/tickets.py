"""Shared steps of ticket writes: load and save a ticket, emit its transition's events, keep the
window rows, the waiting counts and the recent service times in step. All run inside a `HallTx`
(hall.core.tx)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, bindparam, select, text, update

from hall.core.events import EventType
from hall.core.queries import waiting_in
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
    "count_waiting",
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
_BUMP_WAITING = text(
    "UPDATE waiting_counts SET n = n + :d WHERE hall_id = :hall AND category = :category AND queue_class = :klass"
)
_RECOUNT = text(
    "SELECT count(*) FROM tickets WHERE hall_id = :hall AND status = 'waiting' AND category = :category"
    " AND queue_class = :klass"
)
_NEW_COUNT = text("INSERT INTO waiting_counts (hall_id, category, queue_class, n) VALUES (:hall, :category, :klass, :n)")
_SAMPLES = text("SELECT samples FROM recent_service WHERE hall_id = :hall AND category = :category").columns(samples=JSON)
_SET_SAMPLES = text("UPDATE recent_service SET samples = :samples WHERE hall_id = :hall AND category = :category").bindparams(
    bindparam("samples", type_=JSON)
)
_NEW_SAMPLES = text("INSERT INTO recent_service (hall_id, category, samples) VALUES (:hall, :category, :samples)").bindparams(
    bindparam("samples", type_=JSON)
)
SERVICE_SAMPLES_KEPT = 20  # per category: enough for a mean and a spread, few enough to read on every issue


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
    """Save the transition's ticket and append its events (with the shared fields and `extra`);
    keep the window, the waiting counts and the recent service times in step."""
    save_ticket(tx, old, tr.ticket)
    for etype, data in tr.events:
        kind = EventType(etype.value)
        payload = base_data(tx, tr.ticket) | {k: v for k, v in data.items() if k != "queue_key"} | extra
        if kind in (EventType.TICKET_CALLED, EventType.TICKET_RECALLED):
            payload["recalls"] = tr.ticket.recalls
        tx.emit(kind, payload, ticket_id=tr.ticket.id, window=tr.ticket.window)
    sync_window(tx, old, tr.ticket)
    count_waiting(tx, old, tr.ticket)
    if tr.ticket.status is TicketStatus.FINISHED and old.status is not TicketStatus.FINISHED:
        _record_service(tx, tr.ticket)


def count_waiting(tx: HallTx, old: Ticket | None, new: Ticket) -> None:
    """Keep `waiting_counts` exact after a ticket's row was saved: every move into or out of
    `waiting` (and a transfer between categories while waiting) moves one count. `old` is None
    for a ticket just issued."""
    was = (old.category, old.queue_class.value) if old is not None and old.status is TicketStatus.WAITING else None
    now = (new.category, new.queue_class.value) if new.status is TicketStatus.WAITING else None
    if was == now:
        return
    if was is not None:
        _bump(tx, was, -1)
    if now is not None:
        _bump(tx, now, 1)


def _bump(tx: HallTx, pair: tuple[str, str], d: int) -> None:
    params = {"hall": tx.hall.id, "category": pair[0], "klass": pair[1]}
    if tx.conn.execute(_BUMP_WAITING, {**params, "d": d}).rowcount == 0:
        # The first ticket of this queue ever (or a row lost): count it once, the ticket row
        # already saved, so the count includes this move.
        n = tx.conn.execute(_RECOUNT, params).scalar_one()
        tx.conn.execute(_NEW_COUNT, {**params, "n": int(n)})


def _record_service(tx: HallTx, t: Ticket) -> None:
    """Append the finished service's minutes (started → finished) to its category's recent ones."""
    if t.started_at is None or t.finished_at is None:
        return
    sample = [t.finished_at, round(max(0.0, t.finished_at - t.started_at) / 60.0, 3)]
    params = {"hall": tx.hall.id, "category": t.category}
    old = tx.conn.execute(_SAMPLES, params).first()
    if old is None:
        tx.conn.execute(_NEW_SAMPLES, {**params, "samples": [sample]})
        return
    samples = [list(s) for s in (old.samples or [])][-(SERVICE_SAMPLES_KEPT - 1):] + [sample]
    tx.conn.execute(_SET_SAMPLES, {**params, "samples": samples})


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
    """Tickets of `category` waiting now (hall.core.queries.waiting_in, from the kept rows)."""
    return waiting_in(tx.conn, tx.hall.id, category)
