"""`hall export events`: the event log as JSON lines (format in docs/CONTRACTS.md).

One staff-audience envelope per line, in seq order: `{"seq", "type", "at", "hall", "data"}`,
with progress tokens and staff account ids removed (hall.core.events.export_data). `ticket.issued`
carries `channel`, `queue_class`, `priority` and `appointment_start`; every ticket event `id`,
`category` and, once called, `window`. No ID numbers or phones are ever in events.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TextIO

from sqlalchemy import select

from hall.core.events import envelope, export_data, wire_json
from hall.core.registry import HallRegistry
from hall.store.database import Database
from hall.store.models import EventRow
from queueing.numbering import day_start

__all__ = ["export_events", "ExportError"]


class ExportError(ValueError):
    pass


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExportError(f"--{what}: {text!r} is not a date YYYY-MM-DD") from None


def export_events(db: Database, hall_code: str, out: TextIO, *, since: str | None = None, until: str | None = None) -> int:
    """Write the hall's events of hall-local days since..until (inclusive) to `out`; the count."""
    registry = HallRegistry(db)
    registry.refresh()
    info = registry.cached(hall_code)
    if info is None:
        raise ExportError(f"unknown hall {hall_code!r}")
    q = select(EventRow.seq, EventRow.type, EventRow.at, EventRow.data).where(EventRow.hall_id == info.id)
    first, last = _day(since, "since"), _day(until, "until")
    if first is not None:
        q = q.where(EventRow.at >= day_start(first, info.timezone))
    if last is not None:
        q = q.where(EventRow.at < day_start(last + timedelta(days=1), info.timezone))
    n = 0
    with db.read() as conn:
        for row in conn.execute(q.order_by(EventRow.seq)).yield_per(2000):
            env = envelope(row.seq, row.type, row.at, info.code, export_data(row.data), info.tz)
            out.write(wire_json(env) + "\n")
            n += 1
    return n
