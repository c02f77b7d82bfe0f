"""`GET /api/halls/{hall}/accuracy?day=[&format=csv|xlsx]`: the day's estimates and forecasts
scored against what happened (hall.operations.accuracy.rules); managers only. The CSV/XLSX is
the same figures as table rows, headed and labelled from the message catalogue."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from displays.messages import say
from hall.core.registry import HallInfo
from hall.errors import invalid
from hall.operations.stats.exports import rows_to_csv, rows_to_xlsx
from hall.operations.web import file_response, in_thread, manager, now_of, parse_day
from hall.state import state_of

from . import rules, store

__all__ = ["accuracy", "readable_rows"]


def readable_rows(hall: HallInfo, scores: dict[str, Any]) -> list[dict[str, Any]]:
    """`rules.accuracy_rows` for people: dimensions, categories, zones and sources in words."""
    names = {"category": {c.code: f"{c.code} {c.name}" for c in hall.layout.categories},
             "zone": {z.code: z.name for z in hall.layout.zones},
             "source": {s: say(f"accuracy.source.{s}") for s in ("forecast", "analytic")}}
    out = []
    for r in rules.accuracy_rows(scores):
        dim = r["dimension"]
        out.append({**r, "dimension": say(f"accuracy.dim.{dim}"),
                    "key": names.get(dim, {}).get(r["key"], r["key"]), "code": r["key"]})
    return out


def headers() -> dict[str, str]:
    return {c: say(f"accuracy.col.{c}") for c in rules.ROW_COLUMNS} | {"code": "代码"}


async def accuracy(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    now = now_of(st)
    day = parse_day(request.query_params.get("day"), hall, now)
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv", "xlsx"):
        raise invalid("format must be json, csv or xlsx", "format")

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            return store.day_accuracy(conn, hall, day, now)

    scores = await in_thread(read)
    if fmt == "json":
        return JSONResponse(scores)
    rows = readable_rows(hall, scores)
    columns = (*rules.ROW_COLUMNS, "code")
    name = f"{hall.code}-accuracy-{day}"
    if fmt == "csv":
        return file_response(rows_to_csv(rows, columns, headers()), "text/csv; charset=utf-8", f"{name}.csv")
    return file_response(rows_to_xlsx(rows, columns, headers(), day),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{name}.xlsx")
