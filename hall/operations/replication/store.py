"""Replication in the database (sync): the site reads a batch, the city applies it; the city
keeps the requests that travel down and the site records what it applied.

A batch (JSON):
    {"after": acked seq the site believes, "site_seq": its latest seq, "events": [{seq, type, at,
     ticket_id, window, data}], "tickets": [row…], "ratings": [row…], "cases": [row… with
     "audit": […]], "windows": [row…], "waiting": [row…], "presence": [row…], "applied": [{id,
     status, body}]}
Rows carry the site's ids; the city matches tickets by (hall, day, number) and the rest through
their ticket, so the two databases' ids never need to agree.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from hall.errors import ApiError
from hall.operations.replication.rules import (
    BATCH_EVENTS,
    ROLE_CITY,
    ROLE_SITE,
    BatchGap,
    new_events,
    remap_event_data,
)
from hall.security.auth import hash_password
from hall.store.models import (
    AuditEntry,
    DevicePresence,
    EventRow,
    HallCounter,
    Rating,
    TicketRow,
    User,
    WaitingCount,
    WindowRow,
)
from hall.store.operation_models import CaseAuditRow, CaseRow, ReplicationRequest, ReplicationState

__all__ = [
    "read_batch", "apply_batch", "set_authority", "replica_codes", "queue_request", "site_cursor",
    "save_site_cursor", "replication_lag",
]

_TICKET_COLS = [c.name for c in TicketRow.__table__.columns if c.name not in ("id", "hall_id")]
_RATING_COLS = [c.name for c in Rating.__table__.columns if c.name not in ("id", "hall_id")]
_CASE_COLS = [c.name for c in CaseRow.__table__.columns if c.name not in ("id", "hall_id")]
_WINDOW_COLS = ("number", "paused", "pause_reason", "staff_user_id", "staff_name", "current_ticket_id",
                "last_finished_ticket_id", "policy_state")
_PRESENCE_COLS = [c.name for c in DevicePresence.__table__.columns if c.name != "hall_id"]


def _row(r: Any, cols: Sequence[str]) -> dict[str, Any]:
    m = r._mapping
    return {c: m[c] for c in cols}


# --- the site -----------------------------------------------------------------------------------


def site_cursor(conn: Connection, hall_id: int) -> Any:
    return conn.execute(select(ReplicationState).where(ReplicationState.hall_id == hall_id)).first()


def save_site_cursor(conn: Connection, hall_id: int, now: float, *, acked: int | None = None,
                     applied: int | None = None, error: str | None = None) -> None:
    values: dict[str, Any] = {"changed_at": now}
    if acked is not None:
        values.update(acked_seq=acked, last_ok_at=now, last_error=None)
    if applied is not None:
        values["applied_request"] = applied
    if error is not None:
        values["last_error"] = error[:300]
    done = conn.execute(update(ReplicationState).where(ReplicationState.hall_id == hall_id).values(**values)).rowcount
    if not done:
        conn.execute(insert(ReplicationState).values(
            hall_id=hall_id, role=ROLE_SITE, acked_seq=acked or 0, site_seq=0, applied_request=applied or 0,
            last_ok_at=now if acked is not None else None, last_error=error, changed_at=now,
        ))


def read_batch(conn: Connection, hall_id: int, after: int, since: float | None, limit: int = BATCH_EVENTS) -> dict[str, Any]:
    """The site's next batch for the city: events after `after` and the rows they touched, the
    cases open or changed since `since` (case steps are not events), and the live tables."""
    events = conn.execute(
        select(EventRow.seq, EventRow.type, EventRow.at, EventRow.ticket_id, EventRow.window, EventRow.data)
        .where(EventRow.hall_id == hall_id, EventRow.seq > after).order_by(EventRow.seq).limit(limit)
    ).all()
    site_seq = conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == hall_id)).scalar() or 0
    ticket_ids = {e.ticket_id for e in events if e.ticket_id is not None}
    windows = conn.execute(select(WindowRow).where(WindowRow.hall_id == hall_id, WindowRow.active.is_(True))).all()
    ticket_ids |= {w.current_ticket_id for w in windows if w.current_ticket_id} | {
        w.last_finished_ticket_id for w in windows if w.last_finished_ticket_id}
    case_filter: list[Any] = [CaseRow.status.not_in(("closed", "withdrawn"))]
    if since is not None:
        case_filter.append(CaseRow.closed_at >= since - 60)
    else:
        case_filter.append(CaseRow.closed_at.is_not(None))
    if ticket_ids:
        case_filter.append(CaseRow.ticket_id.in_(ticket_ids))
    cases = conn.execute(select(CaseRow).where(CaseRow.hall_id == hall_id, or_(*case_filter))).all()
    ticket_ids |= {c.ticket_id for c in cases}
    tickets = conn.execute(select(TicketRow).where(TicketRow.id.in_(ticket_ids))).all() if ticket_ids else []
    ratings = conn.execute(select(Rating).where(Rating.ticket_id.in_(ticket_ids))).all() if ticket_ids else []
    audit: dict[int, list[dict[str, Any]]] = {}
    if cases:
        for a in conn.execute(select(CaseAuditRow).where(CaseAuditRow.case_id.in_([c.id for c in cases]))
                              .order_by(CaseAuditRow.id)):
            audit.setdefault(a.case_id, []).append({"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail})
    return {
        "after": after,
        "site_seq": int(site_seq),
        "events": [{"seq": e.seq, "type": e.type, "at": e.at, "ticket_id": e.ticket_id, "window": e.window,
                    "data": e.data} for e in events],
        "tickets": [{"id": t.id, **_row(t, _TICKET_COLS)} for t in tickets],
        "ratings": [_row(r, _RATING_COLS) for r in ratings],
        "cases": [{"id": c.id, **_row(c, _CASE_COLS), "audit": audit.get(c.id, [])} for c in cases],
        "windows": [_row(w, _WINDOW_COLS) for w in windows],
        "waiting": [{"category": w.category, "queue_class": w.queue_class, "n": w.n}
                    for w in conn.execute(select(WaitingCount).where(WaitingCount.hall_id == hall_id))],
        "presence": [_row(p, _PRESENCE_COLS)
                     for p in conn.execute(select(DevicePresence).where(DevicePresence.hall_id == hall_id))],
    }


# --- the city -----------------------------------------------------------------------------------


def set_authority(conn: Connection, hall_id: int, authority: str, actor: str, now: float) -> None:
    """Make the hall's site its authority (this city server then keeps a copy and refuses
    local writes), or take the authority back to this server. Audited."""
    if authority == "site":
        if site_cursor(conn, hall_id) is None:
            conn.execute(insert(ReplicationState).values(
                hall_id=hall_id, role=ROLE_CITY, acked_seq=_local_seq(conn, hall_id), site_seq=0, applied_request=0,
                changed_at=now,
            ))
        else:
            conn.execute(update(ReplicationState).where(ReplicationState.hall_id == hall_id)
                         .values(role=ROLE_CITY, changed_at=now))
    elif authority == "city":
        conn.execute(delete(ReplicationState).where(ReplicationState.hall_id == hall_id))
    else:
        raise ValueError("authority is site or city")
    conn.execute(insert(AuditEntry).values(
        at=now, hall_id=hall_id, user_id=None, device_id=None, actor=actor, action="hall.authority",
        target=authority, detail={},
    ))


def _local_seq(conn: Connection, hall_id: int) -> int:
    return int(conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == hall_id)).scalar() or 0)


def replica_codes(conn: Connection) -> set[str]:
    """Codes of the halls this server holds as copies of their site's."""
    from hall.store.models import Hall

    return set(conn.execute(
        select(Hall.code).join(ReplicationState, ReplicationState.hall_id == Hall.id)
        .where(ReplicationState.role == ROLE_CITY)
    ).scalars())


def replication_lag(conn: Connection) -> dict[int, dict[str, Any]]:
    """Per replicated hall: how far the site's log has arrived and when it last reported."""
    return {
        r.hall_id: {"acked_seq": r.acked_seq, "site_seq": r.site_seq, "last_batch_at": r.last_ok_at}
        for r in conn.execute(select(ReplicationState).where(ReplicationState.role == ROLE_CITY))
    }


def _site_staff(conn: Connection, code: str, now: float) -> int:
    """The city's stand-in for the site's clerks (their user ids are the site's): windows
    signed in at the site show as staffed here."""
    name = f"site:{code}"
    uid = conn.execute(select(User.id).where(User.username == name)).scalar()
    if uid is None:
        uid = conn.execute(insert(User).values(
            username=name, name=f"{code}站点人员", role="staff", password_hash=hash_password(secrets.token_urlsafe(24)),
            active=False, created_at=now,
        ).returning(User.id)).scalar_one()
    return int(uid)


def apply_batch(conn: Connection, hall_id: int, hall_code: str, batch: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Apply one batch from the hall's site in the caller's transaction; returns {acked_seq,
    requests: the pending requests for the site}. Raises ApiError 409 (with `acked_seq`) for a
    batch that leaves a gap, 409 for a hall whose authority is not its site."""
    conn.execute(update(HallCounter).where(HallCounter.hall_id == hall_id).values(seq=HallCounter.seq))  # the lock
    state = site_cursor(conn, hall_id)
    if state is None or state.role != ROLE_CITY:
        raise ApiError(409, "not_replica", f"hall {hall_code} is not run by its site here (hall authority)")
    acked = int(state.acked_seq)
    try:
        fresh = new_events(acked, batch.get("events") or [])
    except BatchGap as e:
        raise ApiError(409, "replication_gap", str(e), acked_seq=e.acked) from None

    ids: dict[int, int] = {}
    for t in batch.get("tickets") or []:
        values = {c: t.get(c) for c in _TICKET_COLS} | {"device_id": None}
        local = conn.execute(select(TicketRow.id).where(
            TicketRow.hall_id == hall_id, TicketRow.day == t["day"], TicketRow.number == t["number"])).scalar()
        if local is None:
            local = conn.execute(insert(TicketRow).values(hall_id=hall_id, **values).returning(TicketRow.id)).scalar_one()
        else:
            conn.execute(update(TicketRow).where(TicketRow.id == local).values(**values))
        ids[int(t["id"])] = int(local)
    if fresh:
        conn.execute(insert(EventRow), [{
            "hall_id": hall_id, "seq": e["seq"], "type": e["type"], "at": e["at"],
            "ticket_id": ids.get(e["ticket_id"]) if e.get("ticket_id") is not None else None,
            "window": e.get("window"), "user_id": None, "data": remap_event_data(e.get("data") or {}, ids),
        } for e in fresh])
    for r in batch.get("ratings") or []:
        tid = ids.get(int(r["ticket_id"]))
        if tid is None:
            continue
        values = {c: r.get(c) for c in _RATING_COLS} | {"ticket_id": tid, "staff_user_id": None}
        if not conn.execute(update(Rating).where(Rating.ticket_id == tid).values(**values)).rowcount:
            conn.execute(insert(Rating).values(hall_id=hall_id, **values))
    for c in batch.get("cases") or []:
        tid = ids.get(int(c["ticket_id"]))
        if tid is None:
            continue
        values = {k: c.get(k) for k in _CASE_COLS} | {"ticket_id": tid, "staff_user_id": None}
        case_id = conn.execute(select(CaseRow.id).where(CaseRow.ticket_id == tid)).scalar()
        if case_id is None:
            case_id = conn.execute(insert(CaseRow).values(hall_id=hall_id, **values).returning(CaseRow.id)).scalar_one()
        else:
            conn.execute(update(CaseRow).where(CaseRow.id == case_id).values(**values))
        conn.execute(delete(CaseAuditRow).where(CaseAuditRow.case_id == case_id))
        if c.get("audit"):
            conn.execute(insert(CaseAuditRow), [{"case_id": case_id, **a} for a in c["audit"]])
    staff = None
    for w in batch.get("windows") or []:
        if w.get("staff_user_id") is not None and staff is None:
            staff = _site_staff(conn, hall_code, now)
        conn.execute(update(WindowRow).where(WindowRow.hall_id == hall_id, WindowRow.number == w["number"]).values(
            paused=w["paused"], pause_reason=w.get("pause_reason"), staff_name=w.get("staff_name"),
            staff_user_id=staff if w.get("staff_user_id") is not None else None,
            current_ticket_id=ids.get(w["current_ticket_id"]) if w.get("current_ticket_id") else None,
            last_finished_ticket_id=ids.get(w["last_finished_ticket_id"]) if w.get("last_finished_ticket_id") else None,
            policy_state=w.get("policy_state") or {},
        ))
    if "waiting" in batch:
        conn.execute(delete(WaitingCount).where(WaitingCount.hall_id == hall_id))
        if batch["waiting"]:
            conn.execute(insert(WaitingCount), [{"hall_id": hall_id, **w} for w in batch["waiting"]])
    if "presence" in batch:
        conn.execute(delete(DevicePresence).where(DevicePresence.hall_id == hall_id))
        if batch["presence"]:
            conn.execute(insert(DevicePresence), [{"hall_id": hall_id, **p} for p in batch["presence"]])
    for done in batch.get("applied") or []:
        conn.execute(update(ReplicationRequest).where(
            ReplicationRequest.id == int(done["id"]), ReplicationRequest.hall_id == hall_id,
        ).values(status="applied" if int(done["status"]) < 400 else "failed", result_status=int(done["status"]),
                 result=done.get("body") if isinstance(done.get("body"), dict) else {}, applied_at=now))
    new_acked = int(fresh[-1]["seq"]) if fresh else acked
    if fresh:
        conn.execute(update(HallCounter).where(HallCounter.hall_id == hall_id).values(seq=new_acked))
    conn.execute(update(ReplicationState).where(ReplicationState.hall_id == hall_id).values(
        acked_seq=new_acked, site_seq=max(int(batch.get("site_seq") or 0), new_acked), last_ok_at=now, changed_at=now,
    ))
    pending = conn.execute(
        select(ReplicationRequest).where(ReplicationRequest.hall_id == hall_id, ReplicationRequest.status == "pending")
        .order_by(ReplicationRequest.id).limit(50)
    ).all()
    return {"acked_seq": new_acked, "requests": [
        {"id": r.id, "method": r.method, "path": r.path, "body": r.body, "idempotency_key": r.idempotency_key}
        for r in pending
    ]}


def queue_request(conn: Connection, hall_id: int, method: str, path: str, body: dict[str, Any],
                  key: str | None, actor: str, now: float) -> int:
    """Keep a change made here for the hall's site; its id. The same idempotency key queues once."""
    key = key or secrets.token_urlsafe(18)
    found = conn.execute(select(ReplicationRequest.id).where(
        ReplicationRequest.hall_id == hall_id, ReplicationRequest.idempotency_key == key)).scalar()
    if found is not None:
        return int(found)
    rid = conn.execute(insert(ReplicationRequest).values(
        hall_id=hall_id, method=method, path=path, body=body, idempotency_key=key, actor=actor, created_at=now,
        status="pending",
    ).returning(ReplicationRequest.id)).scalar_one()
    conn.execute(insert(AuditEntry).values(
        at=now, hall_id=hall_id, user_id=None, device_id=None, actor=actor, action="replication.queued",
        target=path, detail={"request": rid, "method": method},
    ))
    return int(rid)
