"""Read-only queries behind the pages that the contract's snapshot does not cover (displays work).

Each function takes an open read connection (``Database.read()``) and returns plain JSON-ready
data. Nothing here writes: the pages change state only through the documented HTTP API.

- :func:`window_console` — the staff console's waiting list for one window, its suspended
  tickets, today's counts and the policy's reason for the current call;
- :func:`live_summary` — the manager view's longest waits, how long each window has been in its
  state, today's service level and the devices that stopped reporting;
- small lookups: :func:`hall_by_code`, :func:`zone_names`, :func:`progress_hall`,
  :func:`called_ticket`, :func:`principal_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select

from hall.core.events import EventType
from hall.core.queries import (
    DEFAULT_OFFLINE_SECONDS,
    device_presence,
    longest_waits,
    offline_seconds,
    service_level,
)
from hall.core.registry import HallInfo
from hall.errors import not_found
from hall.security.auth import Principal, require, resolve_token, token_hash
from hall.store.models import EventRow, Hall, TicketRow, WindowRow, Zone
from queueing.layout import HallLayout, parse_layout
from queueing.numbering import day_start, hall_day
from queueing.window_actions import allowed_actions

__all__ = [
    "called_ticket",
    "hall_by_code",
    "live_summary",
    "principal_for",
    "progress_hall",
    "window_console",
    "zone_names",
]

_WAITING_LIMIT = 50
_NO_SHOW_LIMIT = 20
E = EventType
_WINDOW_STATE_EVENTS = (
    E.TICKET_CALLED, E.TICKET_STARTED, E.TICKET_FINISHED, E.TICKET_NO_SHOW, E.TICKET_TRANSFERRED,
    E.TICKET_SUSPENDED, E.TICKET_CANCELLED, E.WINDOW_PAUSED, E.WINDOW_RESUMED, E.WINDOW_SIGNED_IN,
    E.WINDOW_SIGNED_OUT,
)
_COUNTED: dict[str, str] = {E.TICKET_CALLED: "called", E.TICKET_FINISHED: "finished", E.TICKET_NO_SHOW: "no_show",
            E.TICKET_TRANSFERRED: "transferred", E.TICKET_SUSPENDED: "suspended"}


def hall_by_code(conn: Connection, code: str) -> Any:
    """The hall's row; raises ApiError 404 for an unknown code."""
    row = conn.execute(select(Hall).where(Hall.code == code)).first()
    if row is None:
        raise not_found("hall", code)
    return row


def _layout(hall: Any, cache: dict[tuple[int, float], HallLayout] | None) -> HallLayout:
    key = (hall.id, hall.updated_at)
    if cache is not None and key in cache:
        return cache[key]
    layout = parse_layout(hall.layout)
    if cache is not None:
        cache.clear()  # one hall's layout at a time is plenty for a page server's few halls
        cache[key] = layout
    return layout


def principal_for(conn: Connection, token: str, action: str, hall_id: int) -> Principal:
    """The principal of a bearer token allowed to do ``action`` in the hall; raises 401/403."""
    principal = resolve_token(conn, token) if token else None
    return require(principal, action, hall_id)


def zone_names(conn: Connection, hall_code: str) -> dict[str, str]:
    """``{zone code: zone name}`` of a hall (empty for an unknown hall)."""
    rows = conn.execute(
        select(Zone.code, Zone.name).join(Hall, Hall.id == Zone.hall_id).where(Hall.code == hall_code)
    )
    return {r.code: r.name for r in rows}


def progress_hall(conn: Connection, progress_token: str) -> str | None:
    """The code of the hall a progress token's ticket belongs to, or None."""
    return conn.execute(
        select(Hall.code).join(TicketRow, TicketRow.hall_id == Hall.id)
        .where(TicketRow.progress_token == token_hash(progress_token))
    ).scalar()


def called_ticket(conn: Connection, hall_code: str, ticket_id: int) -> tuple[str, int] | None:
    """(number, window) of a ticket of the hall that a window has called, else None."""
    row = conn.execute(
        select(TicketRow.number, TicketRow.window)
        .join(Hall, Hall.id == TicketRow.hall_id)
        .where(Hall.code == hall_code, TicketRow.id == ticket_id)
    ).first()
    if row is None or row.window is None:
        return None
    return row.number, row.window


def _today_start(hall: Any, layout: HallLayout, now: float) -> float:
    return day_start(hall_day(now, layout.timezone), layout.timezone)


def _call_reason(conn: Connection, hall_id: int, ticket_id: int) -> Any:
    data = conn.execute(
        select(EventRow.data)
        .where(EventRow.hall_id == hall_id, EventRow.ticket_id == ticket_id, EventRow.type == EventType.TICKET_CALLED)
        .order_by(EventRow.seq.desc()).limit(1)
    ).scalar()
    return data.get("reason") if isinstance(data, Mapping) else None


def window_console(
    conn: Connection,
    hall_code: str,
    window: int,
    token: str,
    *,
    now: float,
    layouts: dict[tuple[int, float], HallLayout] | None = None,
) -> dict[str, Any]:
    """What the staff console shows beside the snapshot, for a staff (or manager) token.

    Returns ``{window, waiting: [{id, number, category, queue_class, priority, issued_at,
    waited_seconds}], waiting_total, suspended: [{id, number, category, kind}], today: {called,
    finished, no_show, transferred, suspended}, no_show: [{id, number, category, window,
    called_at}], current: {id, number, status, reason} | null, allowed: [action]}``; ``allowed``
    is queueing.window_actions.allowed_actions for the window now. The waiting list is what this window can
    serve, in queue order (at most 50); ``no_show`` lists the hall's 过号 tickets that may still
    re-check in, latest first (at most 20), so any window can take a person back. Raises ApiError.
    """
    hall = hall_by_code(conn, hall_code)
    principal_for(conn, token, "read_staff", hall.id)
    layout = _layout(hall, layouts)
    try:
        categories = sorted(layout.window(window).categories)
    except KeyError:
        raise not_found("window", window) from None
    servable = (
        (TicketRow.hall_id == hall.id) & (TicketRow.status == "waiting")
        & (
            (TicketRow.target_window == window)
            | (TicketRow.category.in_(categories) & TicketRow.target_window.is_(None))
        )
    )
    rows = conn.execute(
        select(TicketRow.id, TicketRow.number, TicketRow.category, TicketRow.queue_class,
               TicketRow.priority, TicketRow.issued_at, TicketRow.wait_origin)
        .where(servable).order_by(TicketRow.queue_key, TicketRow.id).limit(_WAITING_LIMIT)
    ).all()
    total = conn.execute(select(func.count()).select_from(TicketRow).where(servable)).scalar_one()
    suspended = conn.execute(
        select(TicketRow.id, TicketRow.number, TicketRow.category, TicketRow.extra)
        .where(TicketRow.hall_id == hall.id, TicketRow.status == "suspended", TicketRow.window == window)
        .order_by(TicketRow.id)
    ).all()
    no_shows = conn.execute(
        select(TicketRow.id, TicketRow.number, TicketRow.category, TicketRow.window, TicketRow.called_at)
        .where(TicketRow.hall_id == hall.id, TicketRow.status == "no_show")
        .order_by(TicketRow.called_at.desc(), TicketRow.id.desc()).limit(_NO_SHOW_LIMIT)
    ).all()
    start = _today_start(hall, layout, now)
    counts = dict.fromkeys(_COUNTED.values(), 0)
    for kind, n in conn.execute(
        select(EventRow.type, func.count()).where(
            EventRow.hall_id == hall.id, EventRow.window == window, EventRow.at >= start,
            EventRow.type.in_(list(_COUNTED)),
        ).group_by(EventRow.type)
    ):
        counts[_COUNTED[kind]] = n
    win_row = conn.execute(
        select(WindowRow.current_ticket_id, WindowRow.paused).where(WindowRow.hall_id == hall.id, WindowRow.number == window)
    ).first()
    current = None
    if win_row is not None and win_row.current_ticket_id is not None:
        held = conn.execute(
            select(TicketRow.number, TicketRow.status).where(TicketRow.id == win_row.current_ticket_id)
        ).first()
        if held is not None:
            current = {"id": win_row.current_ticket_id, "number": held.number, "status": held.status,
                       "reason": _call_reason(conn, hall.id, win_row.current_ticket_id)}
    # What the server accepts now: the console enables exactly these (the API refuses the rest).
    allowed = allowed_actions(current["status"] if current else None, paused=bool(win_row and win_row.paused))
    return {
        "window": window,
        "waiting": [
            {"id": r.id, "number": r.number, "category": r.category, "queue_class": r.queue_class,
             "priority": r.priority, "issued_at": r.issued_at,
             # The wait so far on queueing.metrics' definition, like every other wait shown.
             "waited_seconds": max(0.0, now - (r.wait_origin if r.wait_origin is not None else r.issued_at))}
            for r in rows
        ],
        "waiting_total": total,
        "suspended": [
            {"id": r.id, "number": r.number, "category": r.category,
             "kind": (r.extra or {}).get("suspend_kind") or (r.extra or {}).get("kind")}
            for r in suspended
        ],
        "no_show": [
            {"id": r.id, "number": r.number, "category": r.category, "window": r.window, "called_at": r.called_at}
            for r in no_shows
        ],
        "today": counts,
        "current": current,
        "allowed": sorted(allowed),
    }


def live_summary(
    conn: Connection,
    hall_code: str,
    token: str,
    *,
    now: float,
    within_minutes: float | None = None,
    layouts: dict[tuple[int, float], HallLayout] | None = None,
) -> dict[str, Any]:
    """What the manager view shows beside the snapshot, for a manager (or admin) token.

    Returns ``{longest_wait: {id, number, category, waited_seconds} | null, longest_by_category:
    {CAT: seconds}, window_since: {"8": epoch seconds}, service_level: {within_minutes, share,
    count, abandoned}, devices_offline: [{code, name, kind, window, online, last_seen, detail}]}``.
    Every figure is the one computation of hall.core.queries: waits on ``queueing.metrics``'
    definition (from wait start, a transferred ticket's waits added up), the service level of
    the tickets issued today exactly as ``queueing.metrics.service_level`` (``count`` called,
    ``abandoned`` left after the limit) within the layout's ``rules.service_level_minutes``
    unless ``within_minutes`` is given, devices by the hall's ``device_offline_seconds``.
    """
    row = hall_by_code(conn, hall_code)
    principal_for(conn, token, "manage", row.id)
    layout = _layout(row, layouts)
    hall = HallInfo(row.id, row.code, row.name, layout, dict(row.settings or {}), row.updated_at)
    longest = longest_waits(conn, hall.id, [c.code for c in layout.categories], now)
    top = max(longest.values(), key=lambda w: (w.waited_seconds, -w.id), default=None)
    since = {
        str(w): at for w, at in conn.execute(
            select(EventRow.window, func.max(EventRow.at))
            .where(EventRow.hall_id == hall.id, EventRow.window.is_not(None),
                   EventRow.type.in_(_WINDOW_STATE_EVENTS))
            .group_by(EventRow.window)
        )
    }
    if within_minutes is None:
        within_minutes = float(layout.rules.service_level_minutes)
    day = hall_day(now, layout.timezone)
    level = service_level(conn, hall, day.isoformat(), day_start(day, layout.timezone), within_minutes * 60)
    try:
        after = offline_seconds(hall.settings)
    except ValueError:
        after = DEFAULT_OFFLINE_SECONDS  # the settings API refuses such values; an old row may hold one
    return {
        "longest_wait": top.to_dict() if top is not None else None,
        "longest_by_category": {c: w.waited_seconds for c, w in longest.items()},
        "window_since": since,
        "service_level": level.to_dict(),
        "devices_offline": [d.to_dict() for d in device_presence(conn, hall.id, now, after) if not d.online],
    }
