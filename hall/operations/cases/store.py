"""差评整改 cases and 申诉复核 in the database (sync; callers run it in a worker thread).

`sync_cases` reads `ticket.rated` events of a hall from the events table past the stored cursor,
opens a case for every bad rating and moves the cursor, in one transaction: a restart resumes
where it stopped, nothing is missed, and the unique ticket id of a case keeps a second process
from opening it twice. Case steps load the case, apply the pure step of `hall.operations.cases.rules`
and store the new state with its audit entries.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hall.core.events import EventType
from hall.operations.cases import rules as steps
from hall.operations.cases.appeals import Appeal, AppealStatus, decide_appeal, file_appeal
from hall.operations.cases.rules import Case, CaseStatus
from hall.operations.config import OpsConfig
from hall.operations.cursors import advance, read_cursor
from hall.operations.ratings.rules import is_bad
from hall.store.models import EventRow, Rating, TicketRow, User
from hall.store.operation_models import AppealRow, CaseAuditRow, CaseRow

__all__ = [
    "sync_cases",
    "overdue_notices",
    "load_case",
    "apply_step",
    "list_cases",
    "case_dict",
    "file_rating_appeal",
    "decide_rating_appeal",
    "STEP_ACTIONS",
]

STEP_ACTIONS = ("verify", "rectify", "explain", "follow_up", "close")
BATCH = 500


def sync_cases(conn: Connection, hall_id: int, cfg: OpsConfig, now: float) -> list[int]:
    """Open cases for bad ratings rated since the cursor; returns the new case ids."""
    start = read_cursor(conn, hall_id, "cases", lock=True)
    events = conn.execute(
        select(EventRow.seq, EventRow.ticket_id, EventRow.at)
        .where(EventRow.hall_id == hall_id, EventRow.type == EventType.TICKET_RATED, EventRow.seq > start)
        .order_by(EventRow.seq)
        .limit(BATCH)
    ).all()
    opened: list[int] = []
    last = start
    for ev in events:
        last = ev.seq
        if ev.ticket_id is None:
            continue
        rating = conn.execute(select(Rating).where(Rating.ticket_id == ev.ticket_id)).first()
        if rating is None or not is_bad(rating.level):
            continue
        if conn.execute(select(CaseRow.id).where(CaseRow.ticket_id == ev.ticket_id)).first():
            continue
        ticket = conn.execute(
            select(TicketRow.number, TicketRow.category, TicketRow.window).where(TicketRow.id == ev.ticket_id)
        ).first()
        staff_name = ""
        if rating.staff_user_id is not None:
            staff_name = conn.execute(select(User.name).where(User.id == rating.staff_user_id)).scalar() or ""
        opened_at = rating.at
        case = steps.open_case(
            ev.ticket_id, rating.level, "；".join(str(r) for r in rating.reasons or []),
            bool(rating.reason_pending), opened_at,
            cfg.calendar.deadline(opened_at, cfg.case_working_days, cfg.tz), cfg.case_manager,
        )
        case_id = conn.execute(
            insert(CaseRow)
            .values(
                hall_id=hall_id, ticket_id=ev.ticket_id,
                number=ticket.number if ticket else "", category=ticket.category if ticket else "",
                window=rating.window if rating.window is not None else (ticket.window if ticket else None),
                staff_user_id=rating.staff_user_id, staff_name=staff_name, level=rating.level,
                channel=rating.channel, reason=case.reason, reason_pending=case.reason_pending,
                status=case.status.value, assignee=case.assignee, working_days=cfg.case_working_days,
                opened_at=case.opened_at, due_at=case.due_at, event_seq=ev.seq,
            )
            .returning(CaseRow.id)
        ).scalar_one()
        _store_audit(conn, case_id, case.audit)
        opened.append(case_id)
    if last > start:
        advance(conn, hall_id, "cases", last)
    return opened


def overdue_notices(conn: Connection, hall_id: int, now: float) -> list[tuple[int, str]]:
    """Open cases past their deadline not yet announced: recorded now (once per case, in the
    notices table under kind `case_overdue`); returns (case id, ticket number) to send."""
    from hall.store.operation_models import PersonNotice

    told = select(PersonNotice.ticket_id).where(PersonNotice.hall_id == hall_id, PersonNotice.kind == "case_overdue")
    rows = conn.execute(
        select(CaseRow.id, CaseRow.ticket_id, CaseRow.number).where(
            CaseRow.hall_id == hall_id, CaseRow.status.not_in(["closed", "withdrawn"]), CaseRow.due_at < now,
            CaseRow.ticket_id.not_in(told),
        ).order_by(CaseRow.id).limit(100)
    ).all()
    for r in rows:
        conn.execute(insert(PersonNotice).values(
            ticket_id=r.ticket_id, kind="case_overdue", hall_id=hall_id, at=now, channel="manager"))
    return [(r.id, r.number) for r in rows]


def _store_audit(conn: Connection, case_id: int, entries: tuple[steps.AuditEntry, ...]) -> None:
    if entries:
        conn.execute(
            insert(CaseAuditRow),
            [{"case_id": case_id, "at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail} for e in entries],
        )


def load_case(conn: Connection, hall_id: int, case_id: int, lock: bool = False) -> tuple[Any, Case] | None:
    """(row, domain case without its audit) or None."""
    query = select(CaseRow).where(CaseRow.id == case_id, CaseRow.hall_id == hall_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    case = Case(
        ticket_id=row.ticket_id, level=row.level, opened_at=row.opened_at, due_at=row.due_at,
        reason=row.reason, reason_pending=row.reason_pending, status=CaseStatus(row.status),
        assignee=row.assignee, outcome=row.outcome, new_level=row.new_level, closed_at=row.closed_at,
    )
    return row, case


def apply_step(
    conn: Connection, hall_id: int, case_id: int, action: str, actor: str, payload: dict[str, Any], now: float
) -> Case | None:
    """Apply one step; None for an unknown case; raises CaseError for a refused step."""
    loaded = load_case(conn, hall_id, case_id, lock=True)
    if loaded is None:
        return None
    _, case = loaded
    note = str(payload.get("note") or "")
    if action == "verify":
        new = steps.verify(case, actor, note, now)
    elif action == "rectify":
        new = steps.rectify(case, actor, note, now)
    elif action == "explain":
        new = steps.explain(case, actor, note, now)
    elif action == "follow_up":
        level = payload.get("new_level")
        if level in ("", None):
            level = None
        else:
            try:
                level = int(level)
            except (TypeError, ValueError):
                raise steps.CaseError("bad_level", "new_level must be 1..5") from None
        new = steps.follow_up(
            case, actor, str(payload.get("outcome") or ""), now,
            reason=payload.get("reason") or None, new_level=level,
        )
    elif action == "close":
        new = steps.close(case, actor, now, note)
    elif action == "withdraw":
        new = steps.withdraw(case, actor, now, note)
    else:
        raise steps.CaseError("illegal_step", f"unknown step {action!r}")
    conn.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id)
        .values(
            status=new.status.value, reason=new.reason, reason_pending=new.reason_pending,
            outcome=new.outcome, new_level=new.new_level, closed_at=new.closed_at,
        )
    )
    _store_audit(conn, case_id, new.audit[len(case.audit):])
    return new


def case_dict(row: Any, now: float, audit: list[Any] | None = None) -> dict[str, Any]:
    case = Case(
        ticket_id=row.ticket_id, level=row.level, opened_at=row.opened_at, due_at=row.due_at,
        status=CaseStatus(row.status), closed_at=row.closed_at,
    )
    out = {
        "id": row.id, "ticket_id": row.ticket_id, "number": row.number, "category": row.category,
        "window": row.window, "staff_name": row.staff_name, "level": row.level, "channel": row.channel,
        "reason": row.reason, "reason_pending": row.reason_pending, "status": row.status,
        "status_name": steps.STATUS_NAMES[row.status], "assignee": row.assignee,
        "working_days": row.working_days, "opened_at": row.opened_at, "due_at": row.due_at,
        "closed_at": row.closed_at, "outcome": row.outcome, "new_level": row.new_level,
        "overdue": steps.is_overdue(case, now), "on_time": steps.handled_on_time(case),
    }
    if audit is not None:
        out["audit"] = [
            {"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail} for a in audit
        ]
    return out


def list_cases(
    conn: Connection, hall_id: int, now: float, status: str | None = None, case_id: int | None = None
) -> list[dict[str, Any]]:
    """Cases newest first, each with `overdue`; with `case_id`, that one with its audit trail."""
    query = select(CaseRow).where(CaseRow.hall_id == hall_id)
    if status == "open":
        query = query.where(CaseRow.status.not_in(["closed", "withdrawn"]))
    elif status:
        query = query.where(CaseRow.status == status)
    if case_id is not None:
        query = query.where(CaseRow.id == case_id)
    rows = conn.execute(query.order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())).all()
    out = []
    for row in rows:
        audit = None
        if case_id is not None:
            audit = conn.execute(
                select(CaseAuditRow).where(CaseAuditRow.case_id == row.id).order_by(CaseAuditRow.id)
            ).all()
        out.append(case_dict(row, now, list(audit) if audit is not None else None))
    return out


def _appeal(row: Any) -> Appeal:
    return Appeal(
        ticket_id=row.ticket_id, filed_by=row.filed_by, reason=row.reason, filed_at=row.filed_at,
        status=AppealStatus(row.status), decided_by=row.decided_by, decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


def file_rating_appeal(conn: Connection, hall_id: int, ticket_id: int, actor: str, reason: str, now: float) -> int | None:
    """File an appeal against the rating of a ticket; None when the ticket has no rating."""
    if conn.execute(select(Rating.id).where(Rating.ticket_id == ticket_id, Rating.hall_id == hall_id)).first() is None:
        return None
    existing = conn.execute(select(AppealRow).where(AppealRow.ticket_id == ticket_id)).first()
    appeal = file_appeal(ticket_id, actor, reason, now, _appeal(existing) if existing else None)
    return conn.execute(
        insert(AppealRow)
        .values(hall_id=hall_id, ticket_id=ticket_id, filed_by=appeal.filed_by, reason=appeal.reason,
                filed_at=appeal.filed_at, status=appeal.status.value, decision_note="")
        .returning(AppealRow.id)
    ).scalar_one()


def decide_rating_appeal(
    conn: Connection, hall_id: int, appeal_id: int, actor: str, role: str, upheld: bool, note: str, now: float
) -> Appeal | None:
    """Decide an appeal; an upheld one withdraws the rating's open case."""
    row = conn.execute(
        select(AppealRow).where(AppealRow.id == appeal_id, AppealRow.hall_id == hall_id).with_for_update()
    ).first()
    if row is None:
        return None
    decided = decide_appeal(_appeal(row), actor, role, upheld, note, now)
    conn.execute(
        update(AppealRow).where(AppealRow.id == appeal_id).values(
            status=decided.status.value, decided_by=decided.decided_by, decided_at=decided.decided_at,
            decision_note=decided.decision_note,
        )
    )
    if decided.status is AppealStatus.UPHELD:
        case_id = conn.execute(select(CaseRow.id).where(CaseRow.ticket_id == row.ticket_id)).scalar()
        loaded = load_case(conn, hall_id, case_id, lock=True) if case_id is not None else None
        if case_id is not None and loaded is not None and loaded[1].status not in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
            apply_step(conn, hall_id, case_id, "withdraw", actor, {"note": f"申诉成立：{decided.decision_note}"}, now)
    return replace(decided)
