"""Manager API of a hall's operations settings (see hall.operations.config)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import invalid
from hall.operations.config import OpsConfig
from hall.operations.web import (
    in_thread,
    manager,
    now_of,
    read_json,
)
from hall.state import state_of

__all__ = ["ops_settings"]


async def ops_settings(request: Request) -> Response:
    hall, p = await manager(request)
    st = state_of(request)
    if request.method == "GET":
        return JSONResponse({"operations": dict(hall.settings.get("operations") or {})})
    body = await read_json(request)
    settings = {**dict(hall.settings), "operations": body}
    try:
        OpsConfig.build(hall.layout, settings)  # refuse what the loop could not use
    except (ValueError, TypeError) as e:
        raise invalid(f"operations settings: {e}") from None

    def work() -> None:
        from sqlalchemy import insert, update

        from hall.store.models import AuditEntry, Hall

        with st.db.write() as conn:
            stamp = conn.execute(select(Hall.updated_at).where(Hall.id == hall.id)).scalar_one()
            conn.execute(update(Hall).where(Hall.id == hall.id).values(
                settings=settings, updated_at=max(now_of(st), float(stamp) + 0.001)))
            conn.execute(insert(AuditEntry).values(
                at=now_of(st), hall_id=hall.id, user_id=p.user_id, device_id=None, actor=p.actor(),
                action="operations.settings", target=hall.code, detail=body,
            ))
        st.registry.refresh()

    await in_thread(work)
    return JSONResponse({"operations": body})
