"""The operations HTTP API (JSON), mounted by `hall.app` through `operation_routes()`.

```
GET  /api/halls/{hall}/ops/cases?status=open|closed|…        manager: 差评整改 cases (overdue flagged)
GET  /api/halls/{hall}/ops/cases/{id}                          manager: one case with its audit trail
POST /api/halls/{hall}/ops/cases/{id}/{step}                   manager: verify|rectify|explain|follow_up|close
                                                               {note} / {outcome, reason?, new_level?}
GET  /api/halls/{hall}/ops/appeals                             manager
POST /api/halls/{hall}/ops/appeals        {ticket_id, reason}  staff or manager: 申诉
POST /api/halls/{hall}/ops/appeals/{id}/decide {upheld, note}  manager: 复核
POST /api/halls/{hall}/ops/tickets/{id}/link  {case_number, matter_code, matter_name?, department?}  staff
GET  /api/halls/{hall}/ops/slots?category=                      public: bookable slots
POST /api/halls/{hall}/ops/slots {category, day, slots: [["09:00","09:30"]…], capacity}  manager
POST /api/halls/{hall}/appointments {slot_id, name, id_number?, phone?}   public: 预约
POST /api/halls/{hall}/appointments/{code}/cancel {id_number? | phone?}   public (must match)
POST /api/halls/{hall}/appointments/check-in {code? | id_number?}         kiosk: → ticket
GET  /api/halls/{hall}/ops/alerts                               manager: open and recent alerts
POST /api/halls/{hall}/ops/windows/{w}/skills {categories, name?}   manager: 潮汐窗口
GET  /api/halls/{hall}/ops/stats?day=&format=json|csv|xlsx      manager
GET  /api/halls/{hall}/ops/ratings-export?from=&to=&format=json|csv   manager: provincial fields
GET|POST /api/halls/{hall}/ops/webhooks {url, secret, types?}  manager (GET: with delivery log)
GET|PUT  /api/halls/{hall}/ops/settings {case_working_days, rating, booking, alerts, …}  manager
                                                               (see hall.operations.config)
```
Errors are the server's `{"error", "message"}` with a 4xx status.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import anyio
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hall.auth import require
from hall.errors import ApiError, invalid, not_found
from hall.operations import appointments as appts
from hall.operations.appeals import AppealError
from hall.operations.booking import bookable_days
from hall.operations.casebook import (
    STEP_ACTIONS,
    apply_step,
    decide_rating_appeal,
    file_rating_appeal,
    list_cases,
)
from hall.operations.cases import CaseError
from hall.operations.config import OpsConfig
from hall.operations.exports import PROVINCIAL_FIELDS, STAT_HEADERS, rows_to_csv, rows_to_xlsx
from hall.operations.live import open_alerts, retarget_window
from hall.operations.models import (
    AlertRow,
    AppealRow,
    AppointmentRow,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from hall.operations.reports import day_rows, link_ticket, provincial_export
from hall.operations.stats import COLUMNS
from hall.operations.webhooks import add_endpoint
from hall.registry import HallInfo
from hall.state import hall_of, principal_of, state_of
from queueing.layout import LayoutError

__all__ = ["api_routes", "config_of", "today", "parse_day"]

T = TypeVar("T")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise invalid(f"body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    return body


async def _thread(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


def now_of(st: Any) -> float:
    """The server's clock (tests pass a fixed one), else the wall clock."""
    clock = getattr(st, "clock", None)
    return float(clock.now()) if clock is not None else time.time()


def config_of(hall: HallInfo) -> OpsConfig:
    try:
        return OpsConfig.build(hall.layout, hall.settings)
    except ValueError as e:
        raise ApiError(500, "bad_settings", f"operations settings: {e}") from None


def today(hall: HallInfo, now: float) -> str:
    return datetime.fromtimestamp(now, hall.tz).date().isoformat()


def parse_day(value: str | None, hall: HallInfo, now: float, field: str = "day") -> str:
    if not value:
        return today(hall, now)
    if not _DAY.match(value):
        raise invalid("a day is YYYY-MM-DD", field)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid("not a date", field) from None
    return value


async def _manager(request: Request) -> tuple[HallInfo, Any]:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "manage", hall.id)
    return hall, p


def _case_error(e: CaseError) -> ApiError:
    return ApiError(409 if e.code == "illegal_step" else 422, e.code, e.message)


def _appeal_error(e: AppealError) -> ApiError:
    status = {"forbidden": 403, "already_appealed": 409, "already_decided": 409}.get(e.code, 422)
    return ApiError(status, e.code, e.message)


# --- 差评整改 cases and appeals -------------------------------------------------------------

async def cases(request: Request) -> Response:
    hall, _ = await _manager(request)
    st = state_of(request)
    status = request.query_params.get("status") or None

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return list_cases(conn, hall.id, now_of(st), status=status)

    return JSONResponse({"cases": await _thread(read)})


async def case_detail(request: Request) -> Response:
    hall, _ = await _manager(request)
    st = state_of(request)
    case_id = request.path_params["id"]

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return list_cases(conn, hall.id, now_of(st), case_id=case_id)

    found = await _thread(read)
    if not found:
        raise not_found("case", case_id)
    return JSONResponse(found[0])


async def case_step(request: Request) -> Response:
    hall, p = await _manager(request)
    st = state_of(request)
    case_id, action = request.path_params["id"], request.path_params["step"]
    if action not in STEP_ACTIONS:
        raise not_found("step", action)
    body = await _body(request)

    def work() -> dict[str, Any]:
        now = now_of(st)
        with st.db.write() as conn:
            try:
                done = apply_step(conn, hall.id, case_id, action, p.name, body, now)
            except CaseError as e:
                raise _case_error(e) from None
            if done is None:
                raise not_found("case", case_id)
            return list_cases(conn, hall.id, now, case_id=case_id)[0]

    return JSONResponse(await _thread(work))


async def appeals(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    if request.method == "GET":
        require(await principal_of(request), "manage", hall.id)

        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                rows = conn.execute(select(AppealRow).where(AppealRow.hall_id == hall.id).order_by(AppealRow.id.desc())).all()
            return [{"id": r.id, "ticket_id": r.ticket_id, "filed_by": r.filed_by, "reason": r.reason,
                     "filed_at": r.filed_at, "status": r.status, "decided_by": r.decided_by,
                     "decided_at": r.decided_at, "decision_note": r.decision_note} for r in rows]

        return JSONResponse({"appeals": await _thread(read)})
    p = require(await principal_of(request), "ticket", hall.id)
    body = await _body(request)
    ticket_id = body.get("ticket_id")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise invalid("ticket_id must be a ticket id", "ticket_id")

    def work() -> int:
        with st.db.write() as conn:
            try:
                appeal_id = file_rating_appeal(conn, hall.id, ticket_id, p.name, str(body.get("reason") or ""), now_of(st))
            except AppealError as e:
                raise _appeal_error(e) from None
        if appeal_id is None:
            raise not_found("rating", ticket_id)
        return appeal_id

    return JSONResponse({"id": await _thread(work), "status": "pending"}, status_code=201)


async def appeal_decide(request: Request) -> Response:
    hall, p = await _manager(request)
    st = state_of(request)
    appeal_id = request.path_params["id"]
    body = await _body(request)
    if not isinstance(body.get("upheld"), bool):
        raise invalid("upheld must be true or false", "upheld")

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            try:
                done = decide_rating_appeal(conn, hall.id, appeal_id, p.name, p.role, body["upheld"],
                                            str(body.get("note") or ""), now_of(st))
            except AppealError as e:
                raise _appeal_error(e) from None
        if done is None:
            raise not_found("appeal", appeal_id)
        return {"id": appeal_id, "status": done.status.value, "decided_by": done.decided_by}

    return JSONResponse(await _thread(work))


async def link(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "window", hall.id)
    ticket_id = request.path_params["id"]
    body = await _body(request)
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

    if not await _thread(work):
        raise not_found("ticket", ticket_id)
    return JSONResponse({"ticket": ticket_id, **fields})


# --- appointments ---------------------------------------------------------------------------

async def slots(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    cfg = config_of(hall)
    if request.method == "GET":
        category = request.query_params.get("category") or None
        days = [d.isoformat() for d in bookable_days(cfg.booking, cfg.calendar, now_of(st), cfg.tz)]

        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                return appts.open_slots(conn, hall.id, days, category)

        return JSONResponse({"days": days, "slots": await _thread(read)})
    require(await principal_of(request), "manage", hall.id)
    body = await _body(request)
    day = parse_day(str(body.get("day") or ""), hall, now_of(st)) if body.get("day") else None
    spans = body.get("slots")
    capacity = body.get("capacity")
    if day is None:
        raise invalid("day is required", "day")
    if not isinstance(spans, list) or not spans or not all(
        isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) and re.match(r"^\d{2}:\d{2}$", x) for x in s)
        for s in spans
    ):
        raise invalid('slots must be a list of ["HH:MM", "HH:MM"]', "slots")
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise invalid("capacity must be a whole number", "capacity")
    category = str(body.get("category") or "")

    def work() -> list[int]:
        with st.db.write() as conn:
            return appts.create_slots(conn, hall, cfg, category, date.fromisoformat(day),
                                      [(s[0], s[1]) for s in spans], capacity)

    return JSONResponse({"slots": await _thread(work)}, status_code=201)


async def book(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    cfg = config_of(hall)
    body = await _body(request)
    slot_id = body.get("slot_id")
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        raise invalid("slot_id must be a slot id", "slot_id")
    id_number = body.get("id_number") or None
    phone = body.get("phone") or None
    if id_number is not None and (not isinstance(id_number, str) or not re.match(r"^\d{17}[\dXx]$", id_number.strip())):
        raise invalid("id_number must be an 18-digit ID number", "id_number")
    if phone is not None and (not isinstance(phone, str) or not re.match(r"^1\d{10}$", phone.strip())):
        raise invalid("phone must be an 11-digit mobile number", "phone")

    def work() -> dict[str, Any]:
        with st.db.write() as conn:
            return appts.book(conn, hall, cfg, st.crypto, slot_id, str(body.get("name") or ""),
                              id_number.strip().upper() if id_number else None,
                              phone.strip() if phone else None, now_of(st))

    return JSONResponse(await _thread(work), status_code=201)


async def cancel(request: Request) -> Response:
    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    cfg = config_of(hall)
    code = request.path_params["code"].upper()
    body = await _body(request)
    id_number, phone = body.get("id_number"), body.get("phone")

    def work() -> None:
        with st.db.write() as conn:
            row = conn.execute(select(AppointmentRow.id_hash, AppointmentRow.phone_hash).where(
                AppointmentRow.hall_id == hall.id, AppointmentRow.code == code)).first()
            if row is None:
                raise not_found("appointment", code)
            # Only the person who booked may cancel: the code alone may have been seen by others.
            ok = (isinstance(id_number, str) and row.id_hash == st.crypto.lookup_hash(id_number, "id")) or (
                isinstance(phone, str) and row.phone_hash == st.crypto.lookup_hash(phone, "phone"))
            if not ok:
                raise ApiError(403, "forbidden", "预约人的证件号或手机号不符")
            appts.cancel(conn, hall, cfg, code, now_of(st))

    await _thread(work)
    return JSONResponse({"code": code, "status": "cancelled"})


async def check_in(request: Request) -> Response:
    from hall.tx import run_write

    st = state_of(request)
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "issue", hall.id)
    cfg = config_of(hall)
    body = await _body(request)
    code = body.get("code")
    id_number = body.get("id_number")
    if code is not None and not isinstance(code, str):
        raise invalid("code must be text", "code")
    if id_number is not None and not isinstance(id_number, str):
        raise invalid("id_number must be text", "id_number")
    result = await _thread(lambda: run_write(
        st.db, hall, p, lambda tx: appts.check_in(tx, cfg, st.crypto, code, id_number),
        idempotency_key=request.headers.get("idempotency-key"), request=f"POST {request.url.path}", now=now_of(st),
    ))
    await st.publish(result.envelopes)
    return JSONResponse(result.body, status_code=result.status)


# --- live operations ------------------------------------------------------------------------

def alert_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "subject": r.subject, "value": r.value, "limit": r.limit,
            "message": r.message, "raised_at": r.raised_at, "cleared_at": r.cleared_at}


async def alerts(request: Request) -> Response:
    hall, _ = await _manager(request)
    st = state_of(request)

    def read() -> dict[str, Any]:
        with st.db.read() as conn:
            open_ = [alert_dict(r) for r in open_alerts(conn, hall.id)]
            recent = [alert_dict(r) for r in conn.execute(
                select(AlertRow).where(AlertRow.hall_id == hall.id, AlertRow.cleared_at.is_not(None))
                .order_by(AlertRow.cleared_at.desc()).limit(50))]
        return {"open": open_, "recent": recent}

    return JSONResponse(await _thread(read))


async def window_skills(request: Request) -> Response:
    hall, p = await _manager(request)
    st = state_of(request)
    number = request.path_params["w"]
    body = await _body(request)
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

    return JSONResponse(await _thread(work))


# --- statistics and exports -----------------------------------------------------------------

def _file(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def stats(request: Request) -> Response:
    hall, _ = await _manager(request)
    st = state_of(request)
    cfg = config_of(hall)
    day = parse_day(request.query_params.get("day"), hall, now_of(st))
    fmt = request.query_params.get("format", "json")

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return day_rows(conn, hall, day, cfg.service_level_seconds)

    rows = await _thread(read)
    if fmt == "csv":
        return _file(rows_to_csv(rows, COLUMNS, STAT_HEADERS), "text/csv; charset=utf-8", f"{hall.code}-{day}.csv")
    if fmt == "xlsx":
        return _file(rows_to_xlsx(rows, COLUMNS, STAT_HEADERS, day),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{hall.code}-{day}.xlsx")
    if fmt != "json":
        raise invalid("format must be json, csv or xlsx", "format")
    return JSONResponse({"day": day, "columns": list(COLUMNS), "rows": rows})


async def ratings_export(request: Request) -> Response:
    hall, _ = await _manager(request)
    st = state_of(request)
    cfg = config_of(hall)
    day_from = parse_day(request.query_params.get("from"), hall, now_of(st), "from")
    day_to = parse_day(request.query_params.get("to") or day_from, hall, now_of(st), "to")
    fmt = request.query_params.get("format", "json")

    def read() -> list[dict[str, Any]]:
        with st.db.read() as conn:
            return provincial_export(conn, hall, cfg.region_code, day_from, day_to)

    records = await _thread(read)
    if fmt == "csv":
        return _file(rows_to_csv(records, list(PROVINCIAL_FIELDS), PROVINCIAL_FIELDS), "text/csv; charset=utf-8",
                     f"{hall.code}-haochaping-{day_from}-{day_to}.csv")
    if fmt != "json":
        raise invalid("format must be json or csv", "format")
    return JSONResponse({"from": day_from, "to": day_to, "fields": PROVINCIAL_FIELDS, "records": records})


async def webhooks(request: Request) -> Response:
    hall, _ = await _manager(request)
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

        return JSONResponse({"webhooks": await _thread(read)})
    body = await _body(request)
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

    return JSONResponse({"id": await _thread(work)}, status_code=201)


async def ops_settings(request: Request) -> Response:
    hall, p = await _manager(request)
    st = state_of(request)
    if request.method == "GET":
        return JSONResponse({"operations": dict(hall.settings.get("operations") or {})})
    body = await _body(request)
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

    await _thread(work)
    return JSONResponse({"operations": body})


def api_routes() -> list[BaseRoute]:
    h = "/api/halls/{hall}"
    return [
        Route(f"{h}/ops/cases", cases, methods=["GET"]),
        Route(f"{h}/ops/cases/{{id:int}}", case_detail, methods=["GET"]),
        Route(f"{h}/ops/cases/{{id:int}}/{{step}}", case_step, methods=["POST"]),
        Route(f"{h}/ops/appeals", appeals, methods=["GET", "POST"]),
        Route(f"{h}/ops/appeals/{{id:int}}/decide", appeal_decide, methods=["POST"]),
        Route(f"{h}/ops/tickets/{{id:int}}/link", link, methods=["POST"]),
        Route(f"{h}/ops/slots", slots, methods=["GET", "POST"]),
        Route(f"{h}/appointments", book, methods=["POST"]),
        Route(f"{h}/appointments/check-in", check_in, methods=["POST"]),
        Route(f"{h}/appointments/{{code}}/cancel", cancel, methods=["POST"]),
        Route(f"{h}/ops/alerts", alerts, methods=["GET"]),
        Route(f"{h}/ops/windows/{{w:int}}/skills", window_skills, methods=["POST"]),
        Route(f"{h}/ops/stats", stats, methods=["GET"]),
        Route(f"{h}/ops/ratings-export", ratings_export, methods=["GET"]),
        Route(f"{h}/ops/webhooks", webhooks, methods=["GET", "POST"]),
        Route(f"{h}/ops/settings", ops_settings, methods=["GET", "PUT"]),
    ]
