"""The writes of the HTTP API (docs/CONTRACTS.md): login, tickets, ratings, windows, device
heartbeats; the reads are in hall.reads. Every write runs in one hall transaction (hall.tx) in a
worker thread and publishes its events after the commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
from sqlalchemy import insert, select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hall.auth import Principal, issue_token, require, verify_password
from hall.calling import call_next, pause, resume_window, sign_in, sign_out, window_action
from hall.errors import ApiError, invalid, not_found, unauthorized
from hall.issuing import issue_ticket, parse_issue
from hall.models import AuditEntry, Device, TicketRow, User
from hall.registry import HallInfo
from hall.state import HallState, hall_of, principal_of, state_of
from hall.ticketactions import rate_ticket, ticket_action
from hall.tx import HallTx, WriteResult, run_write

__all__ = ["api_routes"]

T = TicketRow.__table__


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    import json

    try:
        body = json.loads(raw)
    except ValueError as e:
        raise invalid(f"body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    return body


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def _write(
    request: Request,
    hall: HallInfo,
    principal: Principal | None,
    work: Callable[[HallTx], tuple[int, dict[str, Any]]],
    key: str | None = None,
) -> tuple[WriteResult, Response]:
    st = state_of(request)
    key = request.headers.get("idempotency-key") or key
    if key is not None and (not isinstance(key, str) or len(key) > 150):
        raise invalid("an idempotency key is text of at most 150 characters", "idempotency_key")
    sig = f"{request.method} {request.url.path}"
    result = await st.db.run_write(
        lambda: run_write(st.db, hall, principal, work, idempotency_key=key, request=sig, now=st.clock.now())
    )
    await st.publish(result.envelopes)
    _count(st, hall, result)
    return result, _json(result.body, result.status)


def _count(st: HallState, hall: HallInfo, result: WriteResult) -> None:
    m = st.metrics
    for env in result.envelopes:
        t = env["type"]
        d = env["data"]
        if t == "ticket.issued":
            m.issued.labels(hall.code, d.get("category", "")).inc()
        elif t == "ticket.called":
            m.calls.labels(hall.code, str(d.get("window"))).inc()
            if isinstance(d.get("waited_seconds"), int | float):
                m.wait.labels(hall.code).observe(d["waited_seconds"])
        elif t == "ticket.finished":
            m.finished.labels(hall.code).inc()
    if result.status >= 400:
        m.requests.labels(str(result.status)).inc()


# --- auth ------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    body = await _body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise invalid("username and password are needed")
    st = state_of(request)

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            user = conn.execute(select(User).where(User.username == username)).first()
            if user is None or not user.active or not verify_password(user.password_hash, password):
                raise unauthorized("wrong username or password")
            token = issue_token(conn, user_id=user.id, hours=st.settings.token_hours)
            conn.execute(
                insert(AuditEntry).values(
                    at=time.time(), hall_id=None, user_id=user.id, device_id=None, actor=f"user:{user.name}",
                    action="auth.login", target=username, detail={},
                )
            )
            return {"token": token, "role": user.role, "name": user.name, "expires_in": int(st.settings.token_hours * 3600)}

    return _json(await anyio.to_thread.run_sync(work))


# --- tickets ---------------------------------------------------------------------------------


async def issue(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "issue", hall.id)
    body = await _body(request)
    req = parse_issue(body)
    key = body.get("idempotency_key")
    if p.kind == "device" and not await st.limiter.hit(f"issue:{p.id}", st.settings.issue_rate_per_minute, st.clock.now()):
        raise ApiError(429, "rate_limited", f"at most {st.settings.issue_rate_per_minute} tickets a minute from one device")
    _, response = await _write(request, hall, p, lambda tx: issue_ticket(tx, req, st.crypto), key)
    return response


async def ticket_move(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "ticket", hall.id)
    tid, action = request.path_params["id"], request.path_params["action"]
    body = await _body(request)
    _, response = await _write(request, hall, p, lambda tx: ticket_action(tx, tid, action, body))
    return response


async def rating(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    tid = request.path_params["id"]
    body = await _body(request)
    principal = await principal_of(request)
    token = body.get("progress_token")
    if principal is None and isinstance(token, str):
        # The person rates from the mobile page: the progress token proves it is their ticket.
        def owns() -> bool:
            with st.db.read() as conn:
                return conn.execute(select(T.c.id).where(T.c.id == tid, T.c.progress_token == token)).first() is not None

        if not await anyio.to_thread.run_sync(owns):
            raise ApiError(403, "forbidden", "this progress token is not for this ticket")
        body.setdefault("channel", "qr")
    else:
        require(principal, "rate", hall.id)
    _, response = await _write(request, hall, principal, lambda tx: rate_ticket(tx, tid, body))
    return response


# --- windows ---------------------------------------------------------------------------------


async def window_call(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    w = request.path_params["w"]
    body = await _body(request)
    ticket = body.get("ticket")
    if ticket is not None and (not isinstance(ticket, int) or isinstance(ticket, bool)):
        raise invalid("ticket must be a ticket id", "ticket")
    _, response = await _write(request, hall, p, lambda tx: call_next(tx, w, ticket))
    return response


async def window_move(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    w, action = request.path_params["w"], request.path_params["action"]
    body = await _body(request)
    work: Callable[[HallTx], tuple[int, dict[str, Any]]]
    if action in ("recall", "no-show", "start", "finish"):
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return window_action(tx, w, action)
    elif action == "pause":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return pause(tx, w, body.get("reason"))
    elif action == "resume":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return resume_window(tx, w)
    elif action == "sign-in":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return sign_in(tx, w)
    elif action == "sign-out":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return sign_out(tx, w)
    else:
        raise not_found("action", action)
    _, response = await _write(request, hall, p, work)
    return response


async def heartbeat(request: Request) -> Response:
    """Bridge heartbeats: presence in Redis with expiry when configured, and `device.status`
    events when a device goes on- or offline."""
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "heartbeat", hall.id)
    body = await _body(request)
    devices = body.get("devices")
    if not isinstance(devices, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str | int) for d in devices):
        raise invalid("devices must be a list of {id, kind, window?, ok}", "devices")
    if st.redis is not None:
        try:
            async with st.redis.pipeline(transaction=False) as pipe:
                for d in devices:
                    pipe.set(f"{st.settings.redis_prefix}presence:{hall.code}:{d['id']}", "1" if d.get("ok", True) else "0", ex=90)
                await pipe.execute()
        except Exception:  # noqa: BLE001 - presence is best effort
            pass

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        from hall.events import EventType

        if p.kind == "device":
            tx.conn.execute(update(Device).where(Device.id == p.id).values(last_seen=tx.now))
        known = _device_states(tx)
        changed = 0
        if p.kind == "device" and p.role == "bridge" and known.get(p.name) is False:
            devices.append({"id": p.name, "kind": "bridge", "ok": True})  # back from silence
        for d in devices:
            ok = bool(d.get("ok", True))
            key = f"{d['id']}"
            if known.get(key) != ok:
                changed += 1
                tx.emit(
                    EventType.DEVICE_STATUS.value,
                    {"id": key, "kind": str(d.get("kind", "")), "window": d.get("window"), "online": ok, "detail": d.get("detail")},
                    window=d.get("window") if isinstance(d.get("window"), int) else None,
                )
        return 200, {"ok": True, "changed": changed}

    _, response = await _write(request, hall, p, work)
    return response


def _device_states(tx: HallTx) -> dict[str, bool]:
    """Each device's last reported state, from the latest device.status event per id."""
    from hall.models import EventRow

    rows = tx.conn.execute(
        select(EventRow.data).where(EventRow.hall_id == tx.hall.id, EventRow.type == "device.status").order_by(EventRow.seq.desc()).limit(500)
    ).scalars()
    out: dict[str, bool] = {}
    for d in rows:
        out.setdefault(str(d.get("id")), bool(d.get("online")))
    return out


def api_routes() -> list[Route]:
    """Every API route: the writes here, the reads of hall.reads."""
    from hall.reads import read_routes

    # The writes first: a request is matched against the routes in order, and these are the
    # busiest (a POST on a path that also has a GET route still finds its route either way).
    return [
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/halls/{hall}/tickets", issue, methods=["POST"]),
        Route("/api/halls/{hall}/tickets/{id:int}/rating", rating, methods=["POST"]),
        Route("/api/halls/{hall}/tickets/{id:int}/{action}", ticket_move, methods=["POST"]),
        Route("/api/halls/{hall}/windows/{w:int}/call", window_call, methods=["POST"]),
        Route("/api/halls/{hall}/windows/{w:int}/{action}", window_move, methods=["POST"]),
        Route("/api/halls/{hall}/devices/heartbeat", heartbeat, methods=["POST"]),
        *read_routes(),
    ]


