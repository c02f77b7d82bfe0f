"""一窗口一码: a printed QR code per window opens a phone page; the rating is bound to one visit
by a short code the person is given at finish (window screen, the console's customer side, or
the progress page), so a photo of the QR code alone rates nothing.

The code is derived, not stored: six digits of the server's keyed hash of (hall, ticket), the
same wherever it is shown and unguessable without the server's secret. A code rates the visit
it belongs to, finished at that window inside the rating period and not yet rated; one rating
per ticket (the ratings table's unique ticket) means two people cannot both rate one visit.
Wrong codes are counted per window and per client so the six digits cannot be walked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from hall.core.registry import HallInfo
from hall.security.crypto import PersonalData
from hall.store.models import Rating, TicketRow, WindowRow

__all__ = ["visit_code", "window_code", "match_code", "CODE_DIGITS", "WRONG_PER_CLIENT_HOUR", "WRONG_PER_WINDOW_DAY"]

CODE_DIGITS = 6
WRONG_PER_CLIENT_HOUR = 10
WRONG_PER_WINDOW_DAY = 60
_DAY = 86_400.0


def visit_code(crypto: PersonalData, hall_id: int, ticket_id: int) -> str:
    digest = crypto.lookup_hash(f"{hall_id}:{ticket_id}", "visit-code")
    return f"{int(digest[:15], 16) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def window_code(
    conn: Connection, crypto: PersonalData, hall: HallInfo, window: int, now: float, period_days: float
) -> dict[str, Any] | None:
    """The code of the visit the window last finished, while it can still be rated."""
    last = conn.execute(
        select(WindowRow.last_finished_ticket_id).where(WindowRow.hall_id == hall.id, WindowRow.number == window)
    ).scalar()
    if last is None:
        return None
    t = conn.execute(
        select(TicketRow.id, TicketRow.number, TicketRow.finished_at)
        .where(TicketRow.id == last, TicketRow.status == "finished")
    ).first()
    if t is None or t.finished_at is None or now - t.finished_at > period_days * _DAY:
        return None
    if conn.execute(select(Rating.id).where(Rating.ticket_id == t.id)).first() is not None:
        return None
    return {"ticket": t.id, "number": t.number, "code": visit_code(crypto, hall.id, t.id),
            "finished_at": t.finished_at, "expires_at": t.finished_at + period_days * _DAY}


def match_code(
    conn: Connection, crypto: PersonalData, hall: HallInfo, window: int, code: str, now: float, period_days: float
) -> int | None:
    """The unrated visit finished at `window` inside the rating period whose code is `code`
    (the latest, should two share one), or None."""
    rated = select(Rating.ticket_id).where(Rating.hall_id == hall.id)
    rows = conn.execute(
        select(TicketRow.id)
        .where(TicketRow.hall_id == hall.id, TicketRow.window == window, TicketRow.status == "finished",
               TicketRow.finished_at >= now - period_days * _DAY, TicketRow.id.not_in(rated))
        .order_by(TicketRow.finished_at.desc())
    ).scalars()
    for tid in rows:
        if visit_code(crypto, hall.id, tid) == code:
            return int(tid)
    return None
