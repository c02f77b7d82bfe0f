"""The reads of the HTTP API (docs/CONTRACTS.md): tickets, snapshot, events, matters, the
mobile progress page's data, halls. Each runs in one read transaction in a worker
thread; screens may read without a token unless their hall says otherwise."""

from __future__ import annotations

from typing import Any

import anyio
from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hall.core.estimate import current_estimate
from hall.core.events import iso
from hall.core.issuing import progress_path
from hall.core.registry import HallInfo
from hall.core.snapshot import read_snapshot
from hall.edge.params import query_int
from hall.edge.respond import json_response
from hall.errors import invalid, not_found, unauthorized
from hall.realtime.hub import read_events
from hall.security.auth import Principal, require, token_hash
from hall.state import hall_of, principal_of, state_of
from hall.store.models import Matter, Rating, TicketRow, table
from hall.store.ticketmap import ticket_from_row

__all__ = ["read_routes"]

T = table(TicketRow)
MAX_EVENTS = 1000


def _forecasts(st: Any) -> Any:
    """Where the latest fresh forecast is (hall.core.estimate.ForecastSource), if kept."""
    return getattr(st, "ticket_forecasts", None)


def _json(body: Any, status: int = 200) -> Response:
    return json_response(body, status)


async def get_ticket(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "read_staff", hall.id)
    tid = request.path_params["id"]

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            row = conn.execute(select(T).where(T.c.id == tid, T.c.hall_id == hall.id)).first()
            if row is None:
                raise not_found("ticket", tid)
            est = current_estimate(conn, hall, ticket_from_row(row), st.clock.now(), _forecasts(st))
        view = _ticket_view(hall, row, staff=p.kind == "user")
        view["ahead"] = est.ahead if est is not None else 0
        view["eta"] = {"p50_minutes": est.p50_minutes, "p90_minutes": est.p90_minutes} if est is not None else None
        view["estimate"] = est.to_dict() if est is not None else None
        return view

    return _json(await anyio.to_thread.run_sync(read))


async def list_tickets(request: Request) -> Response:
    """Staff: tickets of today by status (default waiting), in queue order; at most 500."""
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "read_staff", hall.id)
    status = request.query_params.get("status", "waiting")
    category = request.query_params.get("category")
    if status not in ("waiting", "called", "serving", "suspended", "no_show", "finished", "cancelled", "closed"):
        raise invalid("unknown status", "status")

    def read() -> list[dict[str, Any]]:
        from queueing.numbering import hall_day

        q = select(T).where(T.c.hall_id == hall.id, T.c.status == status, T.c.day == hall_day(st.clock.now(), hall.timezone).isoformat())
        if category:
            q = q.where(T.c.category == category)
        with st.db.read() as conn:
            rows = conn.execute(q.order_by(T.c.queue_key, T.c.id).limit(500)).all()
        return [_ticket_view(hall, r, staff=p.kind == "user") for r in rows]

    return _json({"tickets": await anyio.to_thread.run_sync(read)})


def _ticket_view(hall: HallInfo, row: Any, *, staff: bool) -> dict[str, Any]:
    extra = row.extra or {}
    out = {
        "id": row.id, "number": row.number, "category": row.category, "status": row.status,
        "priority": row.priority, "queue_class": row.queue_class, "channel": row.channel, "window": row.window,
        "target_window": row.target_window, "recalls": extra.get("recalls", 0), "day": row.day,
        "issued_at": iso(row.issued_at, hall.tz),
        "called_at": iso(row.called_at, hall.tz) if row.called_at else None,
        "started_at": iso(extra["started_at"], hall.tz) if extra.get("started_at") else None,
        "finished_at": iso(row.finished_at, hall.tz) if row.finished_at else None,
        "matters": [m["code"] for m in extra.get("matters", [])], "suspend_kind": extra.get("suspend_kind"),
        "close_reason": extra.get("close_reason"),
    }
    if staff:
        out["has_id_number"] = row.person_hash is not None
        out["has_phone"] = row.phone_hash is not None
    return out


async def screen_access(request: Request, hall: HallInfo) -> Principal | None:
    principal = await principal_of(request)
    if principal is None and not hall.public_snapshot:
        raise unauthorized("this hall's screens need a screen token")
    if principal is not None:
        require(principal, "read_screen", hall.id)
    return principal


async def snapshot(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    await screen_access(request, hall)

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            return read_snapshot(conn, hall)

    return _json(await anyio.to_thread.run_sync(read))


async def events(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    principal = await screen_access(request, hall)
    since = query_int(request, "since", 0)
    limit = min(query_int(request, "limit", MAX_EVENTS, lo=1), MAX_EVENTS)
    rows = await anyio.to_thread.run_sync(lambda: read_events(st.db, hall, since, None, limit))
    if principal is None:
        from hall.core.events import public_data

        rows = [e | {"data": public_data(e["type"], e["data"])} for e in rows]
    seq = rows[-1]["seq"] if rows else since
    return _json({"events": rows, "seq": seq, "more": len(rows) == limit})


async def matters(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    q = (request.query_params.get("q") or "").strip()
    if len(q) > 50:
        raise invalid("q is at most 50 characters", "q")

    def read() -> list[dict[str, Any]]:
        stmt = select(Matter.code, Matter.name, Matter.category, Matter.department).where(Matter.hall_id == hall.id)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(or_(Matter.name.contains(q), Matter.initials.like(like), Matter.pinyin.like(like), Matter.code == q.upper()))
        with st.db.read() as conn:
            rows = conn.execute(stmt.order_by(func.length(Matter.name), Matter.code).limit(50)).all()
        names = {c.code: c.name for c in hall.layout.categories}
        return [
            {"code": r.code, "name": r.name, "category": r.category, "category_name": names.get(r.category, ""), "department": r.department}
            for r in rows
        ]

    return _json({"matters": await anyio.to_thread.run_sync(read)})


async def progress(request: Request) -> Response:
    """The mobile progress page's data; the token is the only key (no login). People ahead and
    the estimate are the ones every surface shows (hall.core.estimate.current_estimate)."""
    st = state_of(request)
    token = request.path_params["token"]

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            row = conn.execute(select(T).where(T.c.progress_token == token_hash(token))).first()
            if row is None:
                raise not_found("ticket", "(progress token)")
            hall = st.registry.by_id(row.hall_id) or st.registry.get(_hall_code(conn, row.hall_id))
            est = current_estimate(conn, hall, ticket_from_row(row), st.clock.now(), _forecasts(st))
            # 一次一评: the page shows the form only while no rating of this ticket exists.
            rated = conn.execute(select(Rating.id).where(Rating.ticket_id == row.id)).first() is not None
        return {
            "rated": rated,
            "hall": {"code": hall.code, "name": hall.name}, "id": row.id, "number": row.number, "category": row.category,
            "status": row.status, "window": row.window, "ahead": est.ahead if est is not None else 0,
            "eta": {"p50_minutes": est.p50_minutes, "p90_minutes": est.p90_minutes} if est is not None else None,
            "estimate": est.to_dict() if est is not None else None,
            "issued_at": iso(row.issued_at, hall.tz), "progress_url": progress_path(token),
        }

    return _json(await anyio.to_thread.run_sync(read))


def _hall_code(conn: Any, hall_id: int) -> str:
    from hall.store.models import Hall

    return str(conn.execute(select(Hall.code).where(Hall.id == hall_id)).scalar_one())


async def halls(request: Request) -> Response:
    st = state_of(request)
    await anyio.to_thread.run_sync(st.registry.refresh)
    return _json({"halls": [{"code": h.code, "name": h.name} for h in st.registry.all()]})


def read_routes() -> list[Route]:
    return [
        Route("/api/halls", halls, methods=["GET"]),
        Route("/api/halls/{hall}/tickets", list_tickets, methods=["GET"]),
        Route("/api/halls/{hall}/tickets/{id:int}", get_ticket, methods=["GET"]),
        Route("/api/halls/{hall}/snapshot", snapshot, methods=["GET"]),
        Route("/api/halls/{hall}/events", events, methods=["GET"]),
        Route("/api/halls/{hall}/matters", matters, methods=["GET"]),
        Route("/api/progress/{token}", progress, methods=["GET"]),
    ]
