"""Loading a hall day's statistics and the 好差评 export from the database (sync).

Both leave out ratings set aside by an upheld appeal (申诉复核).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from hall.core.registry import HallInfo
from hall.operations.stats.exports import RatingRecord, provincial_records
from hall.operations.stats.rules import CaseFact, StatEvent, compute
from hall.store.models import EventRow, Matter, Rating, TicketRow, User
from hall.store.operation_models import AppealRow, CaseRow, TicketLink

__all__ = ["day_rows", "day_cases", "rating_records", "provincial_export", "link_ticket"]


def _day_ticket_ids(hall_id: int, day: str, day_to: str | None = None) -> Any:
    q = select(TicketRow.id).where(TicketRow.hall_id == hall_id)
    q = q.where(TicketRow.day == day) if day_to is None else q.where(TicketRow.day >= day, TicketRow.day <= day_to)
    return q.scalar_subquery()


def _upheld(hall_id: int) -> Any:
    return select(AppealRow.ticket_id).where(AppealRow.hall_id == hall_id, AppealRow.status == "upheld")


def day_rows(
    conn: Connection, hall: HallInfo, day: str, within_seconds: float, day_to: str | None = None
) -> list[dict[str, Any]]:
    """Statistics rows of tickets issued on the hall-local `day` (see hall.operations.stats.rules);
    with `day_to`, of the days `day`..`day_to`: a `day` row per day, the rest over the range."""
    ids = _day_ticket_ids(hall.id, day, day_to)
    events = [
        StatEvent(r.ticket_id, r.type, r.at, dict(r.data or {}), r.window,
                  str(r.user_id) if r.user_id is not None else None)
        for r in conn.execute(
            select(EventRow.ticket_id, EventRow.type, EventRow.at, EventRow.data, EventRow.window, EventRow.user_id)
            .where(EventRow.hall_id == hall.id, EventRow.ticket_id.in_(ids))
            .order_by(EventRow.seq)
        )
    ]
    ratings = {
        r.ticket_id: r.level
        for r in conn.execute(
            select(Rating.ticket_id, Rating.level).where(
                Rating.hall_id == hall.id, Rating.ticket_id.in_(ids), Rating.ticket_id.not_in(_upheld(hall.id))
            )
        )
    }
    cases = [
        CaseFact(r.ticket_id, r.status == "closed" and r.closed_at is not None and r.closed_at <= r.due_at,
                 r.status == "withdrawn")
        for r in conn.execute(
            select(CaseRow.ticket_id, CaseRow.status, CaseRow.closed_at, CaseRow.due_at)
            .where(CaseRow.hall_id == hall.id, CaseRow.ticket_id.in_(ids))
        )
    ]
    names = {str(r.id): r.name for r in conn.execute(select(User.id, User.name))}
    zones = {c.code: c.zone for c in hall.layout.categories}
    day_of = None
    if day_to is not None:
        day_of = dict(conn.execute(select(TicketRow.id, TicketRow.day).where(TicketRow.id.in_(ids))).all())
    return compute(day, events, hall.tz, zones, ratings, cases, names, within_seconds, day_of)


def day_cases(conn: Connection, hall_id: int, day: str) -> list[Any]:
    """Cases of the day's tickets (for the daily report's list)."""
    return list(conn.execute(
        select(CaseRow).where(CaseRow.hall_id == hall_id, CaseRow.ticket_id.in_(_day_ticket_ids(hall_id, day)))
        .order_by(CaseRow.id)
    ))


def rating_records(conn: Connection, hall_id: int, day_from: str, day_to: str) -> list[RatingRecord]:
    rows = conn.execute(
        select(
            Rating.ticket_id, Rating.level, Rating.channel, Rating.at, Rating.reasons, Rating.window, Rating.indicators,
            TicketRow.number, User.name.label("staff_name"), TicketLink.case_number, TicketLink.matter_code,
            TicketLink.matter_name, TicketLink.department,
        )
        .join(TicketRow, TicketRow.id == Rating.ticket_id)
        .outerjoin(User, User.id == Rating.staff_user_id)
        .outerjoin(TicketLink, TicketLink.ticket_id == Rating.ticket_id)
        .where(
            and_(Rating.hall_id == hall_id, TicketRow.day >= day_from, TicketRow.day <= day_to),
            Rating.ticket_id.not_in(_upheld(hall_id)),
        )
        .order_by(Rating.at, Rating.id)
    )
    return [
        RatingRecord(
            r.ticket_id, r.number, r.level, r.channel, r.at, [str(x) for x in r.reasons or []], r.window,
            r.staff_name or "", r.case_number or "", r.matter_code or "", r.matter_name or "", r.department or "",
            dict(r.indicators or {}),
        )
        for r in rows
    ]


def provincial_export(conn: Connection, hall: HallInfo, region_code: str, day_from: str, day_to: str) -> list[dict[str, Any]]:
    return provincial_records(rating_records(conn, hall.id, day_from, day_to), region_code, hall.tz)


def link_ticket(
    conn: Connection, hall_id: int, ticket_id: int, case_number: str, matter_code: str, actor: str, now: float,
    matter_name: str = "", department: str = "",
) -> bool:
    """Link (or re-link) a ticket to its 办件编号 and 事项编码; False for an unknown ticket."""
    if conn.execute(select(TicketRow.id).where(TicketRow.id == ticket_id, TicketRow.hall_id == hall_id)).first() is None:
        return False
    if not matter_name or not department:
        matter = conn.execute(
            select(Matter.name, Matter.department).where(Matter.hall_id == hall_id, Matter.code == matter_code)
        ).first()
        if matter is not None:
            matter_name = matter_name or matter.name
            department = department or matter.department
    values = {
        "hall_id": hall_id, "case_number": case_number, "matter_code": matter_code, "matter_name": matter_name,
        "department": department, "linked_by": actor, "linked_at": now,
    }
    existing = conn.execute(select(TicketLink.ticket_id).where(TicketLink.ticket_id == ticket_id)).first()
    if existing:
        conn.execute(update(TicketLink).where(TicketLink.ticket_id == ticket_id).values(**values))
    else:
        conn.execute(insert(TicketLink).values(ticket_id=ticket_id, **values))
    return True
