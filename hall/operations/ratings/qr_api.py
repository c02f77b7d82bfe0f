"""一窗口一码 over HTTP, and paper questionnaires entered by staff.

```
GET  /api/halls/{hall}/windows/{w}/rating-code   the window's clerk, its screen or pad: the code of the
                                                 visit it last finished ({ticket, number, code, expires_at} | null)
POST /api/halls/{hall}/windows/{w}/qr-rating {code, level, reasons?}   public: the phone page of the window's QR code
POST /api/halls/{hall}/tickets/{id}/paper-rating {level, reasons?}     staff or manager: a paper questionnaire
GET  /r/{hall}/{w}                                                     the phone page the printed QR code opens
```
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hall.edge.body import read_json
from hall.edge.respond import hall_write
from hall.edge.templates import Templates
from hall.errors import ApiError, invalid, not_found
from hall.operations.config import rating_policy
from hall.operations.ratings.store import rate_ticket
from hall.operations.ratings.visits import (
    CODE_DIGITS,
    WRONG_PER_CLIENT_HOUR,
    WRONG_PER_WINDOW_DAY,
    match_code,
    window_code,
)
from hall.operations.web import in_thread, now_of
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of

__all__ = ["qr_routes"]

_CODE = re.compile(rf"^\d{{{CODE_DIGITS}}}$")


def _window(hall: Any, number: int) -> None:
    if not any(w.number == number for w in hall.layout.windows):
        raise not_found("window", number)


async def rating_code(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    w = request.path_params["w"]
    _window(hall, w)
    p = require(await principal_of(request), "read_staff", hall.id)
    if p.kind == "device" and p.window is not None and p.window != w:
        raise ApiError(403, "forbidden", "a window's device shows only its own window's code")
    period = rating_policy(hall).period_days
    now = now_of(st)

    def read() -> dict[str, Any] | None:
        with st.db.read() as conn:
            return window_code(conn, st.crypto, hall, w, now, period)

    return JSONResponse({"visit": await in_thread(read)}, headers={"Cache-Control": "no-store"})


async def qr_rating(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    w = request.path_params["w"]
    _window(hall, w)
    body = await read_json(request)
    code = body.get("code")
    if not isinstance(code, str) or not _CODE.match(code.strip()):
        raise invalid(f"code must be the {CODE_DIGITS} digits given when the visit finished", "code")
    now = now_of(st)
    client = request.client.host if request.client else "?"
    # Wrong codes are counted before the lookup answers, so that the digits cannot be walked.
    if not await st.limiter.hit(f"qr-client:{client}", WRONG_PER_CLIENT_HOUR, now, window=3600.0) \
            or not await st.limiter.hit(f"qr-window:{hall.id}:{w}", WRONG_PER_WINDOW_DAY, now, window=86400.0):
        raise ApiError(429, "visit_code_tries", "too many tries with wrong codes: ask at the window")
    period = rating_policy(hall).period_days

    def find() -> int | None:
        with st.db.read() as conn:
            return match_code(conn, st.crypto, hall, w, code.strip(), now, period)

    ticket = await in_thread(find)
    if ticket is None:
        raise ApiError(404, "visit_code_wrong", "no visit at this window has this code (or it was rated already)")
    rating = {"level": body.get("level"), "reasons": body.get("reasons") or [], "channel": "qr"}
    _, response = await hall_write(request, hall, None, lambda tx: rate_ticket(tx, ticket, rating))
    return response


async def paper_rating(request: Request) -> Response:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "ticket", hall.id)
    if p.kind != "user":
        raise ApiError(403, "forbidden", "a paper questionnaire is entered by a member of staff")
    tid = request.path_params["id"]
    body = await read_json(request)
    rating = {"level": body.get("level"), "reasons": body.get("reasons") or [], "channel": "paper"}
    _, response = await hall_write(request, hall, p, lambda tx: rate_ticket(tx, tid, rating))
    return response


def qr_routes(templates: Templates) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        hall = await hall_of(request, request.path_params["hall"])
        w = request.path_params["w"]
        _window(hall, w)
        name = hall.layout.window(w).name
        html = templates.html("rate_window.html", page="rate", config={"hall": hall.code, "window": w, "messages": templates.messages},
                              hall=hall, window=w, window_name=name, digits=CODE_DIGITS)
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    return [
        Route("/api/halls/{hall}/windows/{w:int}/rating-code", rating_code, methods=["GET"]),
        Route("/api/halls/{hall}/windows/{w:int}/qr-rating", qr_rating, methods=["POST"]),
        Route("/api/halls/{hall}/tickets/{id:int}/paper-rating", paper_rating, methods=["POST"]),
        Route("/r/{hall}/{w:int}", page, methods=["GET"]),
    ]
