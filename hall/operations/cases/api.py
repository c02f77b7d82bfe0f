"""差评整改 cases and 申诉复核 appeals over HTTP (see hall.operations.routes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import invalid, not_found
from hall.operations.cases.appeals import AppealError
from hall.operations.cases.rules import CaseError
from hall.operations.cases.store import (
    STEP_ACTIONS,
    apply_step,
    decide_rating_appeal,
    file_rating_appeal,
    list_cases,
)
from hall.operations.web import (
    appeal_error,
    case_error,
    in_thread,
    manager,
    now_of,
    read_json,
)
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of
from hall.store.operation_models import AppealRow

__all__ = ["cases", "case_detail", "case_step", "appeals", "appeal_decide"]


async def cases(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    status = request.query_params.get("status") or None

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return list_cases(conn, hall.id, now_of(st), status=status)

    return JSONResponse({"cases": await in_thread(read)})


async def case_detail(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    case_id = request.path_params["id"]

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return list_cases(conn, hall.id, now_of(st), case_id=case_id)

    found = await in_thread(read)
    if not found:
        raise not_found("case", case_id)
    return JSONResponse(found[0])


async def case_step(request: Request) -> Response:
    hall, p = await manager(request)
    st = state_of(request)
    case_id, action = request.path_params["id"], request.path_params["step"]
    if action not in STEP_ACTIONS:
        raise not_found("step", action)
    body = await read_json(request)

    def work() -> dict[str, Any]:
        now = now_of(st)
        with st.db.write() as conn:
            try:
                done = apply_step(conn, hall.id, case_id, action, p.name, body, now)
            except CaseError as e:
                raise case_error(e) from None
            if done is None:
                raise not_found("case", case_id)
            return list_cases(conn, hall.id, now, case_id=case_id)[0]

    return JSONResponse(await in_thread(work))


async def appeals(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    if request.method == "GET":
        require(await principal_of(request), "manage", hall.id)

        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                rows = conn.execute(select(AppealRow).where(AppealRow.hall_id == hall.id).order_by(AppealRow.id.desc())).all()
            return [{"id": r.id, "ticket_id": r.ticket_id, "filed_by": r.filed_by, "reason": r.reason,
                     "filed_at": r.filed_at, "status": r.status, "decided_by": r.decided_by,
                     "decided_at": r.decided_at, "decision_note": r.decision_note} for r in rows]

        return JSONResponse({"appeals": await in_thread(read)})
    p = require(await principal_of(request), "ticket", hall.id)
    body = await read_json(request)
    ticket_id = body.get("ticket_id")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise invalid("ticket_id must be a ticket id", "ticket_id")

    def work() -> int:
        with st.db.write() as conn:
            try:
                appeal_id = file_rating_appeal(conn, hall.id, ticket_id, p.name, str(body.get("reason") or ""), now_of(st))
            except AppealError as e:
                raise appeal_error(e) from None
        if appeal_id is None:
            raise not_found("rating", ticket_id)
        return appeal_id

    return JSONResponse({"id": await in_thread(work), "status": "pending"}, status_code=201)


async def appeal_decide(request: Request) -> Response:
    hall, p = await manager(request)
    st = state_of(request)
    appeal_id = request.path_params["id"]
    body = await read_json(request)
    if not isinstance(body.get("upheld"), bool):
        raise invalid("upheld must be true or false", "upheld")

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            try:
                done = decide_rating_appeal(conn, hall.id, appeal_id, p.name, p.role, body["upheld"],
                                            str(body.get("note") or ""), now_of(st))
            except AppealError as e:
                raise appeal_error(e) from None
        if done is None:
            raise not_found("appeal", appeal_id)
        return {"id": appeal_id, "status": done.status.value, "decided_by": done.decided_by}

    return JSONResponse(await in_thread(work))
