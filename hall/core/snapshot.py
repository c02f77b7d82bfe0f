"""The hall snapshot (docs/CONTRACTS.md): what a screen or console shows, at one `seq`.

Read inside one consistent read transaction, so the snapshot is exactly the state after event
`seq`: a client applies only events with a larger seq on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from hall.core.events import EventType, iso
from hall.core.queries import WindowState, waiting_counts, window_state
from hall.core.registry import HallInfo
from hall.store.models import EventRow, HallCounter, TicketRow, WindowRow, table

__all__ = ["read_snapshot", "fold_calls", "LATEST_CALLS"]

LATEST_CALLS = 10
# The latest calls are folded from this many call, recall and transfer events: enough for ten
# distinct tickets after recalls and transfers on any ordinary morning.
_CALL_EVENTS = 50
_CALL_TYPES = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED, EventType.TICKET_TRANSFERRED)
T = table(TicketRow)
W = table(WindowRow)


def read_snapshot(conn: Connection, hall: HallInfo) -> dict[str, Any]:
    """The snapshot of `hall` as of this transaction. Holds no personal data."""
    seq = conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == hall.id)).scalar_one()
    layout = hall.layout
    waiting = {c.code: 0 for c in layout.categories}
    for (category, _), n in waiting_counts(conn, hall.id).items():
        waiting[category] = waiting.get(category, 0) + n
    by_zone = {z.code: 0 for z in layout.zones}
    for c in layout.categories:
        by_zone[c.zone] = by_zone.get(c.zone, 0) + waiting.get(c.code, 0)

    rows = {r.number: r for r in conn.execute(select(W).where(W.c.hall_id == hall.id))}
    ids = {r.current_ticket_id for r in rows.values() if r.current_ticket_id} | {
        r.last_finished_ticket_id for r in rows.values() if r.last_finished_ticket_id
    }
    tickets = {}
    if ids:
        for t in conn.execute(
            select(T.c.id, T.c.number, T.c.category, T.c.status, T.c.called_at).where(T.c.id.in_(ids))
        ):
            tickets[t.id] = t
    windows = []
    for w in layout.windows:
        r = rows.get(w.number)
        current = tickets.get(r.current_ticket_id) if r is not None and r.current_ticket_id else None
        last = tickets.get(r.last_finished_ticket_id) if r is not None and r.last_finished_ticket_id else None
        state = window_state(
            active=r is not None and bool(r.active),
            signed_in=r is not None and r.staff_user_id is not None,
            paused=r is not None and bool(r.paused),
            current_status=current.status if current is not None else None,
        )
        windows.append(
            {
                "number": w.number, "name": w.name, "kind": w.kind.value, "zone": w.zone, "state": state.value,
                "categories": sorted(w.categories),
                "staff_name": r.staff_name if r is not None and state is not WindowState.CLOSED else None,
                "pause_reason": r.pause_reason if r is not None and state is WindowState.PAUSED else None,
                "current": (
                    {
                        "id": current.id, "number": current.number, "category": current.category,
                        "status": current.status, "called_at": iso(current.called_at, hall.tz) if current.called_at else None,
                    }
                    if current is not None
                    else None
                ),
                "last_finished": {"id": last.id, "number": last.number} if last is not None else None,
            }
        )

    recent = conn.execute(
        select(EventRow.type, EventRow.data, EventRow.at)
        .where(EventRow.hall_id == hall.id, EventRow.type.in_(_CALL_TYPES))
        .order_by(EventRow.seq.desc())
        .limit(_CALL_EVENTS)
    ).all()
    calls = fold_calls((e.type, e.data, iso(e.at, hall.tz)) for e in reversed(recent))
    return {
        "seq": int(seq),
        "hall": {"code": hall.code, "name": hall.name},
        "waiting": waiting,
        "waiting_by_zone": by_zone,
        "categories": [{"code": c.code, "name": c.name, "zone": c.zone} for c in layout.categories],
        "zones": [{"code": z.code, "name": z.name} for z in layout.zones],
        "windows": windows,
        "latest_calls": calls,
    }


def fold_calls(events: Iterable[tuple[str, dict[str, Any], str]]) -> list[dict[str, Any]]:
    """The hall screen's latest calls from (type, data, at) events, oldest first (docs/REDUCER.md):
    one row per ticket, newest first; a recall marks its row 重呼 in place (and dates it), a
    transfer takes the ticket off the list (it left that window), a new call moves it to the top."""
    calls: list[dict[str, Any]] = []
    for kind, d, at in events:
        tid = d.get("id")
        if kind == EventType.TICKET_RECALLED:
            row = next((c for c in calls if c["id"] == tid and str(c["window"]) == str(d.get("window"))), None)
            if row is not None:
                row["recall"], row["at"] = True, at
                continue
        calls = [c for c in calls if c["id"] != tid]
        if kind == EventType.TICKET_TRANSFERRED:
            continue
        calls.insert(0, {
            "id": tid, "number": d.get("number"), "window": d.get("window"), "window_name": d.get("window_name"),
            "zone": d.get("zone"), "at": at, "recall": kind == EventType.TICKET_RECALLED,
        })
    return calls[:LATEST_CALLS]
