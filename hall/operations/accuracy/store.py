"""The forecasts' slots as made, the estimates given, and the day's waits, read for scoring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from hall.core.events import EventType
from hall.core.registry import HallInfo
from hall.store.models import EventRow, ForecastSlotRow, TicketEstimate, TicketRow

from . import rules

__all__ = ["today", "record_forecast", "estimate_facts", "wait_spans", "slot_facts",
           "day_accuracy"]

KEEP_DAYS = 400  # a statistics range reaches 366 days back
# what ends a wait in the queue (a re-check-in after a no-show starts none: scored from issue)
_ENDS = (EventType.TICKET_CALLED, EventType.TICKET_CANCELLED, EventType.TICKET_CLOSED)


def today(hall: HallInfo, now: float) -> str:
    return dt.datetime.fromtimestamp(now, hall.tz).date().isoformat()


def record_forecast(conn: Connection, hall: HallInfo, computed_at: float,
                    body: Mapping[str, Any]) -> int:
    """Keep a forecast's per-zone slots as made (idempotent per forecast); returns the count."""
    day = today(hall, computed_at)
    rows = []
    for z in body.get("zones") or ():
        for s in z.get("slots") or ():
            w = s.get("waiting") or {}
            rows.append({"hall_id": hall.id, "computed_at": computed_at, "zone": str(z["zone"]),
                         "slot_at": float(s["at"]), "day": day, "waiting_p10": w.get("p10"),
                         "waiting_p50": w.get("p50"), "waiting_p90": w.get("p90")})
    conn.execute(delete(ForecastSlotRow).where(ForecastSlotRow.hall_id == hall.id,
                                               ForecastSlotRow.computed_at == computed_at))
    # some 100 rows a forecast, every few minutes: kept as long as the statistics reach back
    oldest = today(hall, computed_at - KEEP_DAYS * 86400.0)
    conn.execute(delete(ForecastSlotRow).where(ForecastSlotRow.hall_id == hall.id,
                                               ForecastSlotRow.day < oldest))
    if rows:
        conn.execute(insert(ForecastSlotRow), rows)
    return len(rows)


def _first_ends(conn: Connection, hall: HallInfo, day: str) -> dict[int, tuple[str, float]]:
    """Each ticket of the day: the first event that ended its wait (type, when)."""
    ids = select(TicketRow.id).where(TicketRow.hall_id == hall.id, TicketRow.day == day)
    out: dict[int, tuple[str, float]] = {}
    for r in conn.execute(select(EventRow.ticket_id, EventRow.type, EventRow.at)
                          .where(EventRow.hall_id == hall.id, EventRow.ticket_id.in_(ids),
                                 EventRow.type.in_(_ENDS))
                          .order_by(EventRow.seq)):
        if r.ticket_id is not None and r.ticket_id not in out:
            out[int(r.ticket_id)] = (str(r.type), float(r.at))
    return out


def estimate_facts(conn: Connection, hall: HallInfo, day: str,
                   ends: Mapping[int, tuple[str, float]] | None = None) -> list[rules.EstimateFact]:
    ends = _first_ends(conn, hall, day) if ends is None else ends
    out = []
    e = TicketEstimate
    for row in conn.execute(select(e.ticket_id, e.category, e.issued_at, e.p50_minutes, e.p90_minutes,
                                   e.source).where(e.hall_id == hall.id, e.day == day)):
        end = ends.get(row.ticket_id)
        wait = (end[1] - row.issued_at) / 60.0 if end is not None and end[0] == EventType.TICKET_CALLED else None
        out.append(rules.EstimateFact(row.ticket_id, row.category, row.issued_at, row.p50_minutes,
                                      row.p90_minutes, row.source, wait))
    return out


def wait_spans(conn: Connection, hall: HallInfo, day: str,
               ends: Mapping[int, tuple[str, float]] | None = None) -> list[rules.WaitSpan]:
    ends = _first_ends(conn, hall, day) if ends is None else ends
    out = []
    for r in conn.execute(select(TicketRow.id, TicketRow.category, TicketRow.issued_at)
                          .where(TicketRow.hall_id == hall.id, TicketRow.day == day)):
        end = ends.get(int(r.id))
        out.append(rules.WaitSpan(hall.zone_of(r.category), float(r.issued_at),
                                  end[1] if end is not None else None))
    return out


def slot_facts(conn: Connection, hall: HallInfo, day: str) -> list[rules.SlotFact]:
    f = ForecastSlotRow
    return [rules.SlotFact(*r) for r in conn.execute(
        select(f.computed_at, f.zone, f.slot_at, f.waiting_p10, f.waiting_p50, f.waiting_p90)
        .where(f.hall_id == hall.id, f.day == day))]


def day_accuracy(conn: Connection, hall: HallInfo, day: str, now: float) -> dict[str, Any]:
    """The day's scores: `estimates` (per ticket, rules.score_tickets) and `forecasts` (per slot,
    rules.score_slots)."""
    ends = _first_ends(conn, hall, day)
    return {"day": day,
            "estimates": rules.score_tickets(estimate_facts(conn, hall, day, ends), hall.tz),
            "forecasts": rules.score_slots(slot_facts(conn, hall, day),
                                           wait_spans(conn, hall, day, ends), now)}
