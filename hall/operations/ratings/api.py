"""POST /api/halls/{hall}/tickets/{id}/rating: a rating pad, a manager, or the person with their
progress token (the mobile page)."""

from __future__ import annotations

import anyio
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from hall.edge.body import read_json
from hall.edge.respond import hall_write
from hall.errors import ApiError
from hall.operations.ratings.store import rate_ticket
from hall.security.auth import require, token_hash
from hall.state import hall_of, principal_of, state_of
from hall.store.models import TicketRow, table

__all__ = ["rating"]

T = table(TicketRow)


async def rating(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    tid = request.path_params["id"]
    body = await read_json(request)
    principal = await principal_of(request)
    token = body.get("progress_token")
    if principal is None and isinstance(token, str):
        # The person rates from the mobile page: the progress token proves it is their ticket.
        def owns() -> bool:
            with st.db.read() as conn:
                return conn.execute(select(T.c.id).where(T.c.id == tid, T.c.progress_token == token_hash(token))).first() is not None

        if not await anyio.to_thread.run_sync(owns):
            raise ApiError(403, "forbidden", "this progress token is not for this ticket")
        body.setdefault("channel", "qr")
    else:
        require(principal, "rate", hall.id)
    _, response = await hall_write(request, hall, principal, lambda tx: rate_ticket(tx, tid, body))
    return response


