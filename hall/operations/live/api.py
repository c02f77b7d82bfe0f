"""Manager API of live operations: alerts and 潮汐窗口."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.core.tx import HallTx
from hall.edge.respond import hall_write
from hall.errors import ApiError, invalid
from hall.operations.live.store import open_alerts, retarget_window
from hall.operations.web import (
    in_thread,
    manager,
    read_json,
)
from hall.state import state_of
from hall.store.operation_models import AlertRow
from queueing.layout import LayoutError

__all__ = ["alert_dict", "alerts", "window_skills"]


def alert_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "subject": r.subject, "value": r.value, "limit": r.limit,
            "message": r.message, "raised_at": r.raised_at, "cleared_at": r.cleared_at}


async def alerts(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            open_ = [alert_dict(r) for r in open_alerts(conn, hall.id)]
            recent = [alert_dict(r) for r in conn.execute(
                select(AlertRow).where(AlertRow.hall_id == hall.id, AlertRow.cleared_at.is_not(None))
                .order_by(AlertRow.cleared_at.desc()).limit(50))]
        return {"open": open_, "recent": recent}

    return JSONResponse(await in_thread(read))


async def window_skills(request: Request) -> Response:
    """潮汐窗口: one hall write (hall.operations.live.store.retarget_window) whose
    `window.retargeted` event reaches screens and the bridge; an `Idempotency-Key` header (or
    `idempotency_key` field) makes a retried request answer the same."""
    hall, p = await manager(request)
    st = state_of(request)
    number = request.path_params["w"]
    body = await read_json(request)
    cats = body.get("categories")
    if not isinstance(cats, list) or not cats or not all(isinstance(c, str) for c in cats):
        raise invalid("categories must be a non-empty list of category codes", "categories")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        raise invalid("name must be text", "name")

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        try:
            return retarget_window(tx, number, cats, name=name)
        except LayoutError as e:
            raise ApiError(422, "invalid", str(e)) from None

    result, response = await hall_write(request, hall, p, work, body.get("idempotency_key"))
    if result.envelopes:
        await in_thread(st.registry.refresh)  # this process's next call already follows; others poll updated_at
    return response
