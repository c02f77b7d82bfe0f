"""Manager API: alerts, 潮汐窗口, statistics and exports, webhooks, operations settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hall.errors import ApiError, invalid
from hall.operations.config import OpsConfig
from hall.operations.exports import PROVINCIAL_FIELDS, STAT_HEADERS, rows_to_csv, rows_to_xlsx
from hall.operations.live import open_alerts, retarget_window
from hall.operations.models import AlertRow, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hall.operations.reports import day_rows, provincial_export
from hall.operations.stats import COLUMNS
from hall.operations.web import (
    config_of,
    file_response,
    in_thread,
    manager,
    now_of,
    parse_day,
    read_json,
)
from hall.operations.webhooks import add_endpoint
from hall.state import state_of
from queueing.layout import LayoutError

__all__ = ["alert_dict", "alerts", "window_skills", "stats", "ratings_export", "webhooks", "ops_settings"]


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

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            try:
                out = retarget_window(conn, hall.id, number, cats, now_of(st), name=name)
            except LayoutError as e:
                raise ApiError(422, "invalid", str(e)) from None
            from sqlalchemy import insert

            from hall.models import AuditEntry

            conn.execute(insert(AuditEntry).values(
                at=now_of(st), hall_id=hall.id, user_id=p.user_id, device_id=None, actor=p.actor(),
                action="window.skills", target=str(number), detail={"categories": cats},
            ))
        st.registry.refresh()  # this process's next call already follows; others poll updated_at
        return out

    return JSONResponse(await in_thread(work))


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
    if fmt == "csv":
        return file_response(rows_to_csv(rows, COLUMNS, STAT_HEADERS), "text/csv; charset=utf-8", f"{hall.code}-{label}.csv")
    if fmt == "xlsx":
        return file_response(rows_to_xlsx(rows, COLUMNS, STAT_HEADERS, label),
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             f"{hall.code}-{label}.xlsx")
    if fmt != "json":
        raise invalid("format must be json, csv or xlsx", "format")
    return JSONResponse({"day": day, "to": day_to or day, "columns": list(COLUMNS), "rows": rows})


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

    def work() -> int:
        with st.db.write() as conn:
            try:
                return add_endpoint(conn, hall.id, url, secret, types, from_now=not body.get("from_start"),
                                    crypto=st.crypto)
            except ValueError as e:
                raise invalid(str(e), "url") from None

    return JSONResponse({"id": await in_thread(work)}, status_code=201)


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

        from hall.models import AuditEntry, Hall

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
