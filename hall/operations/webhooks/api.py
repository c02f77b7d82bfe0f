"""Manager API of webhooks: endpoints and their delivery log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError, invalid
from hall.operations.web import (
    in_thread,
    manager,
    now_of,
    read_json,
)
from hall.operations.webhooks.store import add_endpoint
from hall.operations.webhooks.targets import TargetGuard, UnsafeTarget, allowed_hosts
from hall.state import state_of
from hall.store.operation_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["webhooks"]


async def webhooks(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    if request.method == "GET":
        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                out = []
                for ep in conn.execute(select(WebhookEndpoint).where(WebhookEndpoint.hall_id == hall.id)):
                    log = conn.execute(
                        select(WebhookDelivery.seq, WebhookDelivery.type, WebhookDelivery.status,
                               WebhookDelivery.attempts, WebhookAttempt.at, WebhookAttempt.status_code,
                               WebhookAttempt.error, WebhookAttempt.ok)
                        .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
                        .where(WebhookDelivery.endpoint_id == ep.id)
                        .order_by(WebhookAttempt.id.desc()).limit(100)
                    ).all()
                    out.append({"id": ep.id, "url": ep.url, "types": ep.types, "active": ep.active, "seq": ep.seq,
                                "log": [dict(r._mapping) for r in log]})
                return out

        return JSONResponse({"webhooks": await in_thread(read)})
    body = await read_json(request)
    url, secret, types = body.get("url"), body.get("secret"), body.get("types") or []
    if not isinstance(url, str) or not isinstance(secret, str):
        raise invalid("url and secret are required", "url")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise invalid("types must be a list of event types", "types")

    try:
        guard = TargetGuard(allowed_hosts(hall.layout.source))
        await in_thread(lambda: guard.check(url))
    except UnsafeTarget as e:
        raise ApiError(422, "unsafe_webhook_target", str(e), field="url") from None

    def work() -> int:
        with st.db.write() as conn:
            try:
                return add_endpoint(conn, hall.id, url, secret, types, from_now=not body.get("from_start"),
                                    crypto=st.crypto, now=now_of(st))
            except ValueError as e:
                raise invalid(str(e), "url") from None

    return JSONResponse({"id": await in_thread(work)}, status_code=201)
