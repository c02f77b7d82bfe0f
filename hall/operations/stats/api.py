"""Statistics over HTTP: figures per day and range, CSV/XLSX, the provincial 好差评 export, and the
办件编号/事项编码 a window links to a ticket (the statistics and the export report them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import invalid, not_found
from hall.operations.accuracy.store import day_accuracy
from hall.operations.stats.exports import (
    EXPORT_COLUMNS,
    PROVINCIAL_FIELDS,
    STAT_HEADERS,
    readable_rows,
    rows_to_csv,
    rows_to_xlsx,
    stat_labels,
)
from hall.operations.stats.rules import COLUMNS
from hall.operations.stats.store import day_rows, link_ticket, provincial_export
from hall.operations.web import (
    config_of,
    file_response,
    in_thread,
    manager,
    now_of,
    parse_day,
    read_json,
)
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of

__all__ = ["stats", "ratings_export", "link"]


# --- statistics and exports -----------------------------------------------------------------

async def stats(request: Request) -> Response:
    """`?day=` one day, or `?from=&to=` a range (at most 366 days): a `day` row per day."""
    hall, _ = await manager(request)
    st = state_of(request)
    cfg = config_of(hall)
    q = request.query_params
    if q.get("from"):
        day = parse_day(q.get("from"), hall, now_of(st), "from")
        day_to: str | None = parse_day(q.get("to") or day, hall, now_of(st), "to")
        assert day_to is not None
        if day_to < day or (date.fromisoformat(day_to) - date.fromisoformat(day)).days > 366:
            raise invalid("to must be on or after from, at most 366 days later", "to")
        label = f"{day}_{day_to}"
    else:
        day = parse_day(q.get("day"), hall, now_of(st))
        day_to, label = None, day
    fmt = q.get("format", "json")

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return day_rows(conn, hall, day, cfg.service_level_seconds, day_to)

    rows = await in_thread(read)
    if fmt in ("csv", "xlsx"):
        people = readable_rows(rows, stat_labels(hall.layout))
        columns = (*EXPORT_COLUMNS, *(c for c in COLUMNS if c not in EXPORT_COLUMNS))
    if fmt == "csv":
        return file_response(rows_to_csv(people, columns, STAT_HEADERS), "text/csv; charset=utf-8",
                             f"{hall.code}-{label}.csv")
    if fmt == "xlsx":
        return file_response(rows_to_xlsx(people, columns, STAT_HEADERS, label),
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             f"{hall.code}-{label}.xlsx")
    if fmt != "json":
        raise invalid("format must be json, csv or xlsx", "format")
    body: dict[str, Any] = {"day": day, "to": day_to or day, "columns": list(COLUMNS), "rows": rows}
    if day_to is None:  # one day: its estimates and forecasts scored (hall.operations.accuracy)
        def scored() -> dict[str, Any]:
            with st.db.read() as conn:
                return day_accuracy(conn, hall, day, now_of(st))

        body["accuracy"] = await in_thread(scored)
    return JSONResponse(body)


async def ratings_export(request: Request) -> Response:
    hall, _ = await manager(request)
    st = state_of(request)
    cfg = config_of(hall)
    day_from = parse_day(request.query_params.get("from"), hall, now_of(st), "from")
    day_to = parse_day(request.query_params.get("to") or day_from, hall, now_of(st), "to")
    fmt = request.query_params.get("format", "json")

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return provincial_export(conn, hall, cfg.region_code, day_from, day_to)

    records = await in_thread(read)
    if fmt == "csv":
        return file_response(rows_to_csv(records, list(PROVINCIAL_FIELDS), PROVINCIAL_FIELDS), "text/csv; charset=utf-8",
                     f"{hall.code}-haochaping-{day_from}-{day_to}.csv")
    if fmt != "json":
        raise invalid("format must be json or csv", "format")
    return JSONResponse({"from": day_from, "to": day_to, "fields": PROVINCIAL_FIELDS, "records": records})


async def link(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    ticket_id = request.path_params["id"]
    body = await read_json(request)
    fields = {}
    for key, limit in (("case_number", 64), ("matter_code", 64), ("matter_name", 200), ("department", 100)):
        value = body.get(key, "")
        if not isinstance(value, str) or len(value) > limit:
            raise invalid(f"{key} must be text of at most {limit} characters", key)
        fields[key] = value.strip()
    if not fields["case_number"] or not fields["matter_code"]:
        raise invalid("case_number (办件编号) and matter_code (事项编码) are required", "case_number")

    def work() -> bool:
        with st.db.write() as conn:
            return link_ticket(conn, hall.id, ticket_id, fields["case_number"], fields["matter_code"], p.actor(),
                               now_of(st), fields["matter_name"], fields["department"])

    if not await in_thread(work):
        raise not_found("ticket", ticket_id)
    return JSONResponse({"ticket": ticket_id, **fields})
