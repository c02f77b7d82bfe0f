"""Answers: JSON bodies, and a hall write run for a request (idempotency key, the server's
clock, publishing after the commit, the write counters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hall.core.events import EventType, wire_json
from hall.core.registry import HallInfo
from hall.core.tx import HallTx, WriteResult, write_queue
from hall.errors import invalid
from hall.security.auth import Principal
from hall.state import HallState, state_of

__all__ = ["json_response", "hall_write", "JsonAnswer"]

Work = Callable[[HallTx], tuple[int, dict[str, Any]]]


class JsonAnswer(Response):
    """A JSON answer that any stored text can be sent in (hall.core.events.wire_json)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return wire_json(content).encode("utf-8")


def json_response(body: Any, status: int = 200, **headers: str) -> JsonAnswer:
    return JsonAnswer(body, status_code=status, headers=headers or None)


async def hall_write(
    request: Request, hall: HallInfo, principal: Principal | None, work: Work, key: str | None = None
) -> tuple[WriteResult, Response]:
    """Run `work` in one hall transaction (hall.core.tx.run_write) and publish its events.

    The idempotency key is the `Idempotency-Key` header, else `key` (a body field)."""
    st = state_of(request)
    key = request.headers.get("idempotency-key") or key
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 150 or not key.isprintable()):
        raise invalid("an idempotency key is one line of text of 1 to 150 characters", "idempotency_key")
    sig = f"{request.method} {request.url.path}"
    # One hall's writes queue in this process (and go to PostgreSQL in batches): hall.core.tx.
    result = await write_queue(st.db).run(hall, principal, work, now=st.clock.now, idempotency_key=key, request=sig)
    await st.publish(result.envelopes)
    _count(st, hall, result)
    return result, json_response(result.body, result.status)


def _count(st: HallState, hall: HallInfo, result: WriteResult) -> None:
    m = st.metrics
    for env in result.envelopes:
        t = env["type"]
        d = env["data"]
        if t == EventType.TICKET_ISSUED:
            m.issued.labels(hall.code, d.get("category", "")).inc()
        elif t == EventType.TICKET_CALLED:
            m.calls.labels(hall.code, str(d.get("window"))).inc()
            if isinstance(d.get("waited_seconds"), int | float):
                m.wait.labels(hall.code).observe(d["waited_seconds"])
        elif t == EventType.TICKET_FINISHED:
            m.finished.labels(hall.code).inc()
    if result.status >= 400:
        m.requests.labels(str(result.status)).inc()
