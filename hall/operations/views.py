"""Manager pages of hall operations (server-rendered, templates in displays/templates/ops/).

```
/ops/{hall}/cases            差评整改 list, overdue flagged          (manager token)
/ops/{hall}/cases/{id}       one case: details, next step's form, audit trail
/ops/{hall}/stats?day=       statistics with charts, CSV/XLSX export links
/ops/{hall}/report?day=      the daily report, laid out for A4 printing
/ops/{hall}/live             open alerts, 潮汐窗口 (window categories, spare window)
/book/{hall}                 public booking page (预约)
```
A manager page needs a manager's login, carried by the HttpOnly session cookie that
`POST /api/auth/login` sets (hall.security.session): no token in links, forms or scripts, and
the page's writes send the CSRF header. Without one it shows the login form, which logs in and
reloads. An old link with `?token=` logs that browser in and is redirected without it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import anyio
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from displays.messages import catalogue, say
from hall.core.queries import device_presence, offline_seconds
from hall.core.registry import HallInfo
from hall.edge.templates import Templates
from hall.errors import ApiError
from hall.operations.accuracy.api import readable_rows as accuracy_rows
from hall.operations.accuracy.store import day_accuracy
from hall.operations.appointments.rules import bookable_days
from hall.operations.appointments.store import ensure_slots, open_slots
from hall.operations.cases.store import case_dict, list_cases
from hall.operations.ratings.rules import LEVEL_NAMES
from hall.operations.routes import config_of, now_of, parse_day
from hall.operations.stats.exports import readable_rows, stat_labels
from hall.operations.stats.store import day_cases, day_rows
from hall.security.session import request_token, set_session
from hall.state import hall_of, principal_of, state_of
from hall.store.models import TicketRow
from hall.store.operation_models import AlertRow, AppealRow

__all__ = ["page_routes"]

WEEKDAYS = "一二三四五六日"
ACTION_NAMES = {"open": "立案", "verify": "核实", "rectify": "整改", "explain": "解释说明",
                "follow_up": "回访", "close": "办结", "withdraw": "申诉撤销"}
KIND_NAMES = {"comprehensive": "无差别综合窗口", "zone": "分领域综窗", "dedicated": "专窗", "help_desk": "帮办代办",
              "complaint": "办不成事反映", "cross_province": "跨省通办"}
APPEAL_NAMES = {"pending": "待复核", "upheld": "申诉成立", "rejected": "申诉不成立"}
ALERT_NAMES = {"waiting_per_window": "等候过多", "longest_wait": "等候超时", "window_paused": "窗口暂停过长",
               "device_offline": "设备离线"}


_CODE_LIKE = re.compile(r"^[A-Za-z0-9_\-]+$")


def device_words(conn: Any, hall: HallInfo, now: float) -> dict[str, str]:
    """Each device of the hall as a manager reads it: "评价器（1号窗口）", or its own name when
    it was given one in words (a name that is only a code says nothing to a person)."""
    try:
        after = offline_seconds(hall.settings)
    except ValueError:
        after = 90.0
    out: dict[str, str] = {}
    for d in device_presence(conn, hall.id, now, after):
        kind = say(f"manage.device.{d.kind}", fallback=say("manage.device.other"))
        name = d.name if d.name and d.name != d.code and not _CODE_LIKE.match(d.name) else kind
        where = say("manage.window_of", number=d.window) if d.window else say("manage.hall_wide")
        out[d.code] = f"{name}（{where}）"
    return out


def alert_text(alert: Any, devices: dict[str, str]) -> str:
    """An alert's words: a device by kind and place, never its code; the others as raised."""
    if alert.kind == "device_offline":
        return say("alert.device_offline", device=devices.get(alert.subject, say("manage.device.other")))
    return str(alert.message)


class _Pages:
    """The manager pages' renderer on the app's one template environment."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def render(self, name: str, hall: HallInfo, **ctx: Any) -> HTMLResponse:
        tz = hall.tz

        def fmt_time(t: float | None) -> str:
            return "-" if t is None else datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")

        def fmt_due(t: float) -> str:
            # Deadlines are the midnight after the due day: show the due day itself.
            return datetime.fromtimestamp(t - 1, tz).strftime("%Y-%m-%d") + " 前"

        def mins(seconds: float | None) -> str:
            return "-" if seconds is None else f"{seconds / 60:.1f}分"

        def pct(share: float | None) -> str:
            return "-" if share is None else f"{share * 100:.1f}%"

        return self.templates.response(
            name, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            hall=hall, fmt_time=fmt_time, fmt_due=fmt_due, mins=mins, pct=pct,
            level_names=LEVEL_NAMES, action_names=ACTION_NAMES, alert_names=ALERT_NAMES, kind_names=KIND_NAMES, **ctx,
        )


async def _manager_or_login(request: Request, pages: _Pages, page: str) -> tuple[HallInfo, str | None, Response | None]:
    hall = await hall_of(request, request.path_params["hall"])
    token, source = request_token(request)
    principal = await principal_of(request) if token else None
    ok = principal is not None and principal.kind == "user" and principal.role in ("admin", "city", "manager") and principal.in_hall(hall.id)
    if ok and source == "query" and token:
        # A link from before the session cookie: log this browser in and drop the token from
        # the address (and so from history and the next access log line).
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        moved = RedirectResponse(request.url.path + ("?" + urlencode(kept) if kept else ""), status_code=303)
        set_session(request, moved, token, int(state_of(request).settings.token_hours * 3600))
        return hall, None, moved
    if ok:
        return hall, "", None
    return hall, None, pages.render("ops/login.html", hall, page=page, token="", failed=bool(token))


def _booking_messages() -> dict[str, str]:
    return {k: v for k, v in catalogue().items() if k.startswith(("book_", "slots_"))}


def _groups(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {d: [] for d in ("day", "hour", "category", "zone", "window", "staff")}
    for r in rows:
        out[r["dimension"]].append(r)
    return out


def page_routes(templates: Templates) -> list[BaseRoute]:
    pages = _Pages(templates)

    async def cases(request: Request) -> Response:
        hall, token, login = await _manager_or_login(request, pages, "cases")
        if login is not None:
            return login
        st = state_of(request)
        show_all = request.query_params.get("all") == "1"
        now = now_of(st)

        def read() -> tuple[list[dict[str, Any]], list[Any]]:
            with st.db.read() as conn:
                rows = list_cases(conn, hall.id, now, status=None if show_all else "open")
                appeals = conn.execute(
                    select(AppealRow.id, AppealRow.filed_by, AppealRow.reason, AppealRow.filed_at, AppealRow.status,
                           AppealRow.decided_by, AppealRow.decision_note, TicketRow.number)
                    .join(TicketRow, TicketRow.id == AppealRow.ticket_id)
                    .where(AppealRow.hall_id == hall.id)
                    .order_by(AppealRow.status != "pending", AppealRow.id.desc()).limit(100)
                ).all()
            return rows, list(appeals)

        rows, appeals = await anyio.to_thread.run_sync(read)
        return pages.render("ops/cases.html", hall, page="cases", token=token, cases=rows, show_all=show_all,
                            overdue=sum(1 for c in rows if c["overdue"]), cfg=config_of(hall), appeals=appeals,
                            appeal_names=APPEAL_NAMES)

    async def case(request: Request) -> Response:
        hall, token, login = await _manager_or_login(request, pages, "case")
        if login is not None:
            return login
        st = state_of(request)
        case_id = request.path_params["id"]

        def read() -> list[dict[str, Any]]:
            with st.db.read() as conn:
                return list_cases(conn, hall.id, now_of(st), case_id=case_id)

        found = await anyio.to_thread.run_sync(read)
        if not found:
            raise ApiError(404, "unknown_case", f"no case {case_id}")
        return pages.render("ops/case.html", hall, page="case", token=token, c=found[0])

    async def _stats(request: Request, template: str, page: str) -> Response:
        hall, token, login = await _manager_or_login(request, pages, page)
        if login is not None:
            return login
        st = state_of(request)
        cfg = config_of(hall)
        now = now_of(st)
        day = parse_day(request.query_params.get("day"), hall, now)

        def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Any], dict[str, str], dict[str, Any]]:
            with st.db.read() as conn:
                rows = day_rows(conn, hall, day, cfg.service_level_seconds)
                day_case_list = [case_dict(r, now) for r in day_cases(conn, hall.id, day)]
                start = datetime.combine(date.fromisoformat(day), datetime.min.time(), hall.tz).timestamp()
                alerts = list(conn.execute(select(AlertRow).where(
                    AlertRow.hall_id == hall.id, AlertRow.raised_at >= start, AlertRow.raised_at < start + 86_400
                ).order_by(AlertRow.raised_at)))
                scores = day_accuracy(conn, hall, day, now)
                return rows, day_case_list, alerts, device_words(conn, hall, now), scores

        rows, cases_today, alerts, devices, scores = await anyio.to_thread.run_sync(read)
        groups = _groups(rows)
        # The same labels as the CSV/XLSX exports: zones by name, never their codes.
        for r, readable in zip(rows, readable_rows(rows, stat_labels(hall.layout)), strict=True):
            r["label"] = readable["key"]
        d = date.fromisoformat(day)
        return pages.render(
            template, hall, page=page, token=token, day=day, groups=groups, total=groups["day"][0],
            hourly_tickets=[(r["label"], r["tickets"]) for r in groups["hour"]],
            hourly_waits=[(r["label"], None if r["wait_mean"] is None else round(r["wait_mean"] / 60, 1)) for r in groups["hour"]],
            cases=cases_today, alerts=alerts, devices=devices, alert_text=alert_text, weekday=f"星期{WEEKDAYS[d.weekday()]}", generated=now,
            sl_minutes=round(cfg.service_level_seconds / 60), accuracy=accuracy_rows(hall, scores),
        )

    async def stats(request: Request) -> Response:
        return await _stats(request, "ops/stats.html", "stats")

    async def report(request: Request) -> Response:
        return await _stats(request, "ops/report.html", "report")

    async def live(request: Request) -> Response:
        hall, token, login = await _manager_or_login(request, pages, "live")
        if login is not None:
            return login
        st = state_of(request)

        def read() -> tuple[list[Any], dict[str, str]]:
            with st.db.read() as conn:
                from hall.operations.live.store import open_alerts

                return open_alerts(conn, hall.id), device_words(conn, hall, now_of(st))

        hall = st.registry.get(hall.code)  # the latest layout (windows may have been retargeted)
        alerts, devices = await anyio.to_thread.run_sync(read)
        return pages.render("ops/live.html", hall, page="live", token=token,
                            open_alerts=alerts, devices=devices, alert_text=alert_text, windows=hall.layout.windows,
                            categories=hall.layout.categories, cfg=config_of(hall))

    async def book(request: Request) -> Response:
        hall = await hall_of(request, request.path_params["hall"])
        return pages.render("ops/book.html", hall, page="book", token="", cfg=config_of(hall),
                            categories=hall.layout.categories, messages=_booking_messages())

    async def slots(request: Request) -> Response:
        hall, token, login = await _manager_or_login(request, pages, "slots")
        if login is not None:
            return login
        st = state_of(request)
        cfg = config_of(hall)
        codes = [c.code for c in hall.layout.categories]
        category = request.query_params.get("category") or codes[0]
        if category not in codes:
            category = codes[0]
        days = bookable_days(cfg.booking, cfg.calendar, now_of(st), cfg.tz)

        def work() -> list[dict[str, Any]]:
            with st.db.write() as conn:
                ensure_slots(conn, hall, cfg, days)
                return open_slots(conn, hall.id, [d.isoformat() for d in days], category)

        rows = await anyio.to_thread.run_sync(work)

        def hhmm(t: float) -> str:
            return datetime.fromtimestamp(t, hall.tz).strftime("%H:%M")

        by_day = [(d.isoformat(), [{**r, "start": hhmm(r["start_at"]), "end": hhmm(r["end_at"])}
                                   for r in rows if r["day"] == d.isoformat()]) for d in days]
        return pages.render("ops/slots.html", hall, page="slots", token=token, cfg=cfg, days=by_day,
                            category=category, categories=hall.layout.categories, messages=_booking_messages())

    return [
        Route("/ops/{hall}/cases", cases, methods=["GET"]),
        Route("/ops/{hall}/cases/{id:int}", case, methods=["GET"]),
        Route("/ops/{hall}/stats", stats, methods=["GET"]),
        Route("/ops/{hall}/report", report, methods=["GET"]),
        Route("/ops/{hall}/live", live, methods=["GET"]),
        Route("/book/{hall}", book, methods=["GET"]),
        Route("/ops/{hall}/slots", slots, methods=["GET"]),
    ]
