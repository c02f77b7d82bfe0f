"""The city view over HTTP.

```
GET /api/city?sort=&desc=1            city manager (or admin): every hall; a hall manager: their own
GET /api/city/ratings-export?from=&to=&format=json|csv   the provincial 好差评 export, all halls, by hall and window
GET /city                             the page (login, then the table, refreshed every 10 s)
```
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hall.core.registry import HallInfo
from hall.edge.templates import Templates
from hall.errors import forbidden, invalid, unauthorized
from hall.operations.city.rules import SortError, sort_rows, totals
from hall.operations.city.store import city_figures
from hall.operations.stats.exports import PROVINCIAL_FIELDS, rows_to_csv
from hall.operations.stats.store import provincial_export
from hall.operations.web import config_of, file_response, in_thread, now_of, parse_day
from hall.security.auth import Principal
from hall.state import principal_of, state_of

__all__ = ["city_routes"]

_VIEWERS = frozenset({"admin", "city", "manager"})
_REFRESH_SECONDS = 5.0
_refreshed: dict[int, float] = {}
CITY_FIELDS = ("hall_code", "hall_name", *PROVINCIAL_FIELDS)


async def _viewer(request: Request) -> tuple[Principal, list[HallInfo]]:
    """The caller and the halls it may see: all for a city manager or admin, a manager's own."""
    p = await principal_of(request)
    if p is None:
        raise unauthorized()
    if p.kind != "user" or p.role not in _VIEWERS:
        raise forbidden("the city view is for city and hall managers")
    st = state_of(request)

    def visible() -> list[HallInfo]:
        # The hub's poller keeps the registry current; a hall imported a moment ago by another
        # process is picked up here too, at most every few seconds (a refresh reads every hall).
        if time.monotonic() - _refreshed.get(id(st.registry), -1e9) > _REFRESH_SECONDS:
            st.registry.refresh()
            _refreshed[id(st.registry)] = time.monotonic()
        return [h for h in st.registry.all() if p.in_hall(h.id)]

    halls = await in_thread(visible)
    return p, halls


async def city(request: Request) -> Response:
    p, halls = await _viewer(request)
    st = state_of(request)
    now = now_of(st)
    key = request.query_params.get("sort", "code")
    descending = request.query_params.get("desc") in ("1", "true")

    def read() -> list[Any]:
        with st.db.read() as conn:
            return city_figures(conn, halls, now, every=p.halls is None)

    rows = await in_thread(read)
    try:
        ordered = sort_rows(rows, key, descending)
    except SortError as e:
        raise invalid(str(e), "sort") from None
    return JSONResponse(
        {"at": now, "sort": key, "desc": descending, "totals": totals(rows), "halls": [r.to_dict() for r in ordered]},
        headers={"Cache-Control": "no-store"},
    )


async def city_ratings_export(request: Request) -> Response:
    _, halls = await _viewer(request)
    st = state_of(request)
    now = now_of(st)
    if not halls:
        return JSONResponse({"fields": list(CITY_FIELDS), "records": []})
    day_from = parse_day(request.query_params.get("from"), halls[0], now, "from")
    day_to = parse_day(request.query_params.get("to") or day_from, halls[0], now, "to")
    if day_to < day_from:
        raise invalid("to must be on or after from", "to")
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise invalid("format must be json or csv", "format")

    def read() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        with st.db.read() as conn:
            for h in sorted(halls, key=lambda h: h.code):
                region = config_of(h).region_code
                out += [{"hall_code": h.code, "hall_name": h.name, **r}
                        for r in provincial_export(conn, h, region, day_from, day_to)]
        return out

    records = await in_thread(read)
    if fmt == "csv":
        headers = {"hall_code": "大厅编码", "hall_name": "大厅名称", **PROVINCIAL_FIELDS}
        return file_response(rows_to_csv(records, list(CITY_FIELDS), headers), "text/csv; charset=utf-8",
                             f"city-haochaping-{day_from}-{day_to}.csv")
    return JSONResponse({"from": day_from, "to": day_to, "fields": list(CITY_FIELDS), "records": records})


def city_routes(templates: Templates) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        html = templates.html("city.html", page="city", config={"messages": templates.messages})
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    return [
        Route("/api/city", city, methods=["GET"]),
        Route("/api/city/ratings-export", city_ratings_export, methods=["GET"]),
        Route("/city", page, methods=["GET"]),
    ]
