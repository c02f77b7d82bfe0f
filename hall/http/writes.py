"""The writes of the HTTP API (docs/CONTRACTS.md): login, tickets, windows, device heartbeats
(ratings are hall.operations.ratings.api); the reads are in hall.http.reads. Every write runs in one hall transaction (hall.core.tx) in a
worker thread and publishes its events after the commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import msgspec
from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hall.core.actions import ACTIONS, ticket_action
from hall.core.calling import call_next, pause, resume_window, sign_in, sign_out, window_action
from hall.core.issuing import issue_ticket, parse_issue
from hall.core.presence import record_heartbeat
from hall.core.tx import HallTx
from hall.core.visits import record_visit
from hall.edge.body import read_json, read_model
from hall.edge.respond import hall_write, json_response
from hall.errors import ApiError, invalid, not_found, unauthorized
from hall.http.models import (
    CallBody,
    HeartbeatBody,
    IssueBody,
    LoginBody,
    TicketActionBody,
    WindowMoveBody,
)
from hall.operations.appointments.store import issue_by_code
from hall.security.auth import issue_token, require, token_hash, verify_password
from hall.security.session import clear_session, request_token, set_session
from hall.state import hall_of, principal_of, state_of
from hall.store.models import AuditEntry, AuthToken, User

__all__ = ["api_routes", "WINDOW_ACTIONS"]

# One route per window action (like the ticket actions), so that other routes under a window
# (its rating code, its QR rating) can be declared elsewhere without an ordering trap.
WINDOW_ACTIONS = ("recall", "no-show", "start", "finish", "pause", "resume", "sign-in", "sign-out", "visit")


# --- auth ------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    creds = await read_model(request, LoginBody)
    username, password = creds.username, creds.password
    st = state_of(request)

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            user = conn.execute(select(User).where(User.username == username)).first()
            if user is None or not user.active or not verify_password(user.password_hash, password):
                raise unauthorized("wrong username or password")
            token = issue_token(conn, user_id=user.id, hours=st.settings.token_hours)
            conn.execute(
                insert(AuditEntry).values(
                    at=st.clock.now(), hall_id=None, user_id=user.id, device_id=None, actor=f"user:{user.name}",
                    action="auth.login", target=username, detail={},
                )
            )
            return {"token": token, "role": user.role, "name": user.name, "expires_in": int(st.settings.token_hours * 3600)}

    answer = await anyio.to_thread.run_sync(work)
    response = json_response(answer)
    # The pages keep the login as an HttpOnly cookie (no script or URL holds it); machines use
    # the token in the answer as a bearer header.
    set_session(request, response, answer["token"], answer["expires_in"])
    return response


async def logout(request: Request) -> Response:
    """Ends the login the request carries (cookie or bearer): its token stops working."""
    await read_json(request)  # no fields, but a body with bad text is refused like any write's
    token, _ = request_token(request)
    st = state_of(request)
    if token:
        await principal_of(request)  # a cookie logout needs its CSRF header like any write

        def work() -> None:
            with st.db.write() as conn:
                conn.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash(token), AuthToken.user_id.is_not(None)))

        await anyio.to_thread.run_sync(work)
        st.tokens.put(token, None)
    response = json_response({"ok": True})
    clear_session(response)
    return response


# --- tickets ---------------------------------------------------------------------------------


async def issue(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "issue", hall.id)
    parsed = await read_model(request, IssueBody)
    req = parse_issue(msgspec.to_builtins(parsed))
    key = parsed.idempotency_key
    if p.kind == "device" and not await st.limiter.hit(f"issue:{p.id}", st.settings.issue_rate_per_minute, st.clock.now()):
        raise ApiError(429, "rate_limited", f"at most {st.settings.issue_rate_per_minute} tickets a minute from one device")
    work: Callable[[HallTx], tuple[int, dict[str, Any]]]
    # the estimate comes from the latest forecast when the forecast task keeps one fresh
    forecasts = getattr(st, "ticket_forecasts", None)
    if req.appointment_code:
        # 预约签到 by code: the appointments store resolves the booking, then issues.
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return issue_by_code(tx, req, st.crypto, forecasts)
    else:
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return issue_ticket(tx, req, st.crypto, forecasts=forecasts)
    _, response = await hall_write(request, hall, p, work, key)
    return response


async def ticket_move(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "ticket", hall.id)
    tid = request.path_params["id"]
    action = request.url.path.rsplit("/", 1)[1]
    body = msgspec.to_builtins(await read_model(request, TicketActionBody))
    forecasts = getattr(state_of(request), "ticket_forecasts", None)  # a transfer's estimate
    _, response = await hall_write(request, hall, p, lambda tx: ticket_action(tx, tid, action, body, forecasts))
    return response


# --- windows ---------------------------------------------------------------------------------


async def window_call(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    w = request.path_params["w"]
    ticket = (await read_model(request, CallBody)).ticket
    _, response = await hall_write(request, hall, p, lambda tx: call_next(tx, w, ticket))
    return response


async def window_move(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    w, action = request.path_params["w"], request.url.path.rsplit("/", 1)[1]
    visit = await read_model(request, IssueBody) if action == "visit" else None
    body = WindowMoveBody() if visit is not None else await read_model(request, WindowMoveBody)
    work: Callable[[HallTx], tuple[int, dict[str, Any]]]
    if action in ("recall", "no-show", "start", "finish"):
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return window_action(tx, w, action)
    elif action == "pause":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return pause(tx, w, body.reason)
    elif action == "resume":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return resume_window(tx, w)
    elif action == "sign-in":
        takeover = body.takeover

        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return sign_in(tx, w, takeover)
    elif action == "sign-out":
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return sign_out(tx, w)
    elif action == "visit":
        # A station's clerk records the person in front of the window: issued, called, started.
        assert visit is not None
        req = parse_issue({**msgspec.to_builtins(visit), "channel": "staff"})
        if req.appointment_code:
            raise invalid("an appointment is checked in at the kiosk or by …/appointments/check-in", "appointment_code")
        crypto = state_of(request).crypto
        forecasts = getattr(state_of(request), "ticket_forecasts", None)

        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            return record_visit(tx, w, req, crypto, forecasts)
    else:
        raise not_found("action", action)
    _, response = await hall_write(request, hall, p, work)
    return response


async def heartbeat(request: Request) -> Response:
    """Device heartbeats: presence kept in the hall transaction (hall.core.presence), with
    `device.status` events when a device goes on- or offline."""
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "heartbeat", hall.id)
    devices = msgspec.to_builtins((await read_model(request, HeartbeatBody)).devices)

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True, "changed": record_heartbeat(tx, p, devices)}

    _, response = await hall_write(request, hall, p, work)
    return response


def api_routes() -> list[Route]:
    """The API's write routes (the reads are hall.http.reads; the table is hall.http.routes)."""
    # The writes first: a request is matched against the routes in order, and these are the
    # busiest. One route per ticket action, so that other routes under a ticket (its rating)
    # can be declared elsewhere without an ordering trap.
    return [
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/auth/logout", logout, methods=["POST"]),
        Route("/api/halls/{hall}/tickets", issue, methods=["POST"]),
        Route("/api/halls/{hall}/windows/{w:int}/call", window_call, methods=["POST"]),
        *[Route(f"/api/halls/{{hall}}/windows/{{w:int}}/{a}", window_move, methods=["POST"]) for a in WINDOW_ACTIONS],
        *[Route(f"/api/halls/{{hall}}/tickets/{{id:int}}/{a}", ticket_move, methods=["POST"]) for a in ACTIONS],
        Route("/api/halls/{hall}/devices/heartbeat", heartbeat, methods=["POST"]),
    ]
