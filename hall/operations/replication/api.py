"""Replication over HTTP (the transport: plain HTTP with the idempotency the server already has —
a batch is idempotent by (hall, seq), a request travelling down by its idempotency key — so no
broker sits between a township and the city; see the README).

```
POST /api/replication/{hall}/batch       the hall's site (a `site` device token of the city): its next
                                         batch → {acked_seq, requests}; 409 replication_gap {acked_seq}
PUT  /api/replication/{hall}/authority {authority: site|city}   admin: who runs the hall (audited)
GET  /api/replication/{hall}             admin, city or the hall's manager: {authority, acked_seq, site_seq,
                                         last_batch_at, pending}
```
`ReplicaGuard` wraps the app on every server: a write at the city to a hall its site runs is
queued for the site (潮汐, case steps, settings; 202 {queued}) or refused (409 hall_replica).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hall.edge.body import read_json
from hall.errors import ApiError, invalid
from hall.operations.replication.rules import down_route, hall_of_path
from hall.operations.replication.store import (
    apply_batch,
    queue_request,
    replica_codes,
    set_authority,
    site_cursor,
)
from hall.operations.web import in_thread, now_of
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of
from hall.store.models import TicketRow
from hall.store.operation_models import CaseRow, ReplicationRequest

__all__ = ["replication_routes", "ReplicaGuard"]

MAX_BATCH_BYTES = 16 * 1024 * 1024  # 500 events with their rows are ~1 MB; far more is a fault


async def batch(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    require(await principal_of(request), "replicate", hall.id)
    body = await read_json(request, MAX_BATCH_BYTES)  # a batch names its own limit (500 events ~ 1 MB)
    if not isinstance(body.get("events", []), list):
        raise invalid("a batch is a JSON object with a list of events")
    now = now_of(st)

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            return apply_batch(conn, hall.id, hall.code, body, now)

    out = await in_thread(work)
    return JSONResponse(out)


async def authority(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "replicate", hall.id)
    if p.kind != "user":
        raise ApiError(403, "forbidden", "moving a hall's authority is an administrator's act")
    body = await read_json(request)
    value = body.get("authority")
    if value not in ("site", "city"):
        raise invalid("authority is site or city", "authority")

    def work() -> None:
        with st.db.write() as conn:
            set_authority(conn, hall.id, value, p.actor(), now_of(st))

    await in_thread(work)
    ReplicaGuard.forget()
    return JSONResponse({"hall": hall.code, "authority": value})


async def status(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    require(await principal_of(request), "manage", hall.id)

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            row = site_cursor(conn, hall.id)
            pending = conn.execute(select(func.count()).select_from(ReplicationRequest).where(
                ReplicationRequest.hall_id == hall.id, ReplicationRequest.status == "pending")).scalar()
        if row is None:
            return {"hall": hall.code, "authority": "here", "pending": pending}
        return {"hall": hall.code, "authority": "site" if row.role == "city" else "here (ships to the city)",
                "role": row.role, "acked_seq": row.acked_seq, "site_seq": row.site_seq,
                "last_batch_at": row.last_ok_at, "last_error": row.last_error, "pending": pending}

    return JSONResponse(await in_thread(read))


def replication_routes() -> list[BaseRoute]:
    return [
        Route("/api/replication/{hall}/batch", batch, methods=["POST"]),
        Route("/api/replication/{hall}/authority", authority, methods=["PUT"]),
        Route("/api/replication/{hall}", status, methods=["GET"]),
    ]


class ReplicaGuard:
    """ASGI middleware: writes at this server to a hall whose authority is its site."""

    _codes: set[str] = set()
    _read_at = -1e9
    REFRESH = 2.0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @classmethod
    def forget(cls) -> None:
        cls._read_at = -1e9

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        code = hall_of_path(scope["path"])
        st = (scope.get("state") or {}).get("hall")
        if code is None or st is None or code not in await self._replicas(st):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._queue(request, code)
        except ApiError as e:
            response = JSONResponse(e.body(), status_code=e.status)
        await response(scope, receive, send)

    async def _replicas(self, st: Any) -> set[str]:
        if time.monotonic() - ReplicaGuard._read_at > self.REFRESH:
            def read() -> set[str]:
                with st.db.read() as conn:
                    return replica_codes(conn)

            ReplicaGuard._codes = await anyio.to_thread.run_sync(read)
            ReplicaGuard._read_at = time.monotonic()
        return ReplicaGuard._codes

    async def _queue(self, request: Request, code: str) -> Response:
        st = state_of(request)
        path = request.url.path
        route = down_route(request.method, path)
        if route is None:
            raise ApiError(409, "hall_replica", f"hall {code} is run by its own site server: do this there")
        hall = await hall_of(request, code)
        p = require(await principal_of(request), "manage", hall.id)
        body = await read_json(request)
        key = request.headers.get("idempotency-key")
        now = now_of(st)

        def work() -> int:
            with st.db.write() as conn:
                payload = dict(body)
                if route.case_id is not None:
                    # The site's case has its own id: it is found there by its ticket.
                    t = conn.execute(select(TicketRow.day, TicketRow.number).join(
                        CaseRow, CaseRow.ticket_id == TicketRow.id).where(
                        CaseRow.id == route.case_id, CaseRow.hall_id == hall.id)).first()
                    if t is None:
                        raise ApiError(404, "not_found", f"no case {route.case_id}")
                    payload["_case_ticket"] = {"day": t.day, "number": t.number}
                return queue_request(conn, hall.id, request.method, path, payload, key, p.actor(), now)

        rid = await in_thread(work)
        return JSONResponse({"queued": rid, "hall": code, "applied_by": "site"}, status_code=202)
