"""Every derived fact of the live hall, one computation each, read inside the caller's
transaction (a hall write's `tx.conn` or a `Database.read()` connection).

Each fact has exactly one function here, and every page, notice, API answer, alert and device
takes it from there (DESIGN.md "One computation per fact"):

- `people_ahead` — waiting tickets of the categories that compete for the same windows
  (`queueing.estimate.competing_categories`) that are earlier by (queue_key, id);
- `waiting_counts`, `waiting_in` — waiting tickets per (category, queue class), from the rows every
  transition keeps (hall.store.models.WaitingCount), never a count of waiting tickets;
- `issued_today` — numbers a category gave today (the daily cap), from the number counters;
- `open_windows` — windows a ticket can be called by now: active, a clerk signed in, not paused;
  `open_window_numbers` — which ones (the forecast starts from them);
- `recent_arrivals` — tickets issued per category since an instant (the forecast's recent rate);
- `recent_service_minutes` — the category's last service times (hall.store.models.RecentService);
- `estimate` — the one wait estimate, `WaitEstimate {ahead, p50_minutes, p90_minutes, state}`;
- `longest_waits` — the longest wait so far per category, on `queueing.metrics`' definition;
- `service_level` — a day's share called within N minutes, exactly `queueing.metrics`';
- `device_presence`, `offline_seconds` — which devices are online now, honouring the hall's
  `device_offline_seconds`;
- `window_state` — closed / idle / called / serving / paused from a window's row
  (hall.core.windowstate, re-exported here; the snapshot takes it, and docs/REDUCER.md's
  reducers follow the same rule event by event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    String,
    TextClause,
    and_,
    bindparam,
    case,
    func,
    select,
    text,
)

from hall.core.calendar import hall_calendar
from hall.core.events import iso
from hall.core.hours import opening
from hall.core.registry import HallInfo
from hall.core.windowstate import WindowState, window_state
from hall.store.models import Device, DevicePresence, EventRow, TicketRow, WaitingCount, WindowRow
from queueing import metrics
from queueing.estimate import estimate_wait, service_stats
from queueing.numbering import printed_prefix
from queueing.tickets import QueueClass, Ticket, TicketStatus

__all__ = [
    "WaitEstimate",
    "LongestWait",
    "ServiceLevel",
    "Presence",
    "people_ahead",
    "waiting_counts",
    "waiting_in",
    "issued_today",
    "open_windows",
    "open_window_numbers",
    "recent_arrivals",
    "recent_service_minutes",
    "estimate",
    "estimate_and_waiting",
    "longest_waits",
    "service_level",
    "offline_seconds",
    "device_presence",
    "devices_by_hall",
    "waiting_by_hall",
    "longest_wait_by_hall",
    "windows_by_hall",
    "WindowState",
    "window_state",
    "RECENT_SERVICE_SECONDS",
    "DEFAULT_OFFLINE_SECONDS",
    "SILENT",
]

# Service times older than this say little about the staff at the windows now.
RECENT_SERVICE_SECONDS = 3 * 3600.0
DEFAULT_OFFLINE_SECONDS = 90.0  # bridges beat every ~15 s, pages every 30 s: three missed beats
SILENT = "no heartbeat"  # the detail of a device offline because it fell silent
_CLASSES = tuple(k.value for k in QueueClass)


def _names(prefix: str, n: int) -> str:
    return ", ".join(f":{prefix}{i}" for i in range(n))


def _binds(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{prefix}{i}": v for i, v in enumerate(values)}


# --- people ahead and the waiting counts ------------------------------------------------------


@lru_cache(maxsize=64)
def _ahead_sql(n: int) -> TextClause:
    # One statement, so one snapshot on every database: the waiting rows of the competing
    # categories minus those of their waiting tickets later than this one. "Later" is almost
    # always none at issue (the newest ticket) — only appointments checked in before their slot
    # and a ticket whose clock read came before a concurrent issue's — so issuing never scans
    # the queue. Every queue class is named so that the head index seeks on each
    # (category, class) and walks only the later keys.
    cats = _names("c", n)
    classes = ", ".join(f"'{k}'" for k in _CLASSES)
    return text(
        f"SELECT (SELECT coalesce(sum(n), 0) FROM waiting_counts WHERE hall_id = :hall AND category IN ({cats}))"
        f" - (SELECT count(*) FROM tickets WHERE hall_id = :hall AND status = 'waiting' AND category IN ({cats})"
        f" AND queue_class IN ({classes}) AND queue_key >= :key AND (queue_key > :key OR id > :id))"
    )


def people_ahead(conn: Connection, hall: HallInfo, ticket: Ticket) -> int:
    """People ahead of a waiting `ticket`: waiting tickets of the categories that compete with
    its category for windows that are earlier by (queue_key, id). 0 for a ticket not waiting."""
    if ticket.status is not TicketStatus.WAITING:
        return 0
    cats = hall.competing_categories(ticket.category)
    n = conn.execute(
        _ahead_sql(len(cats)), {"hall": hall.id, "key": ticket.queue_key, "id": ticket.id, **_binds("c", cats)}
    ).scalar_one()
    return max(0, int(n) - 1)  # the ticket itself is among the waiting and not later than itself


_COUNTS = text("SELECT category, queue_class, n FROM waiting_counts WHERE hall_id = :hall")
_COUNT_OF = text("SELECT coalesce(sum(n), 0) FROM waiting_counts WHERE hall_id = :hall AND category = :category")


def waiting_counts(conn: Connection, hall_id: int) -> dict[tuple[str, str], int]:
    """{(category, queue class): waiting tickets} of the hall (pairs with none left out)."""
    return {(c, k): int(n) for c, k, n in conn.execute(_COUNTS, {"hall": hall_id}) if n}


def waiting_in(conn: Connection, hall_id: int, category: str | None = None) -> int:
    """Waiting tickets of one category, or of the whole hall."""
    if category is not None:
        return int(conn.execute(_COUNT_OF, {"hall": hall_id, "category": category}).scalar_one())
    return sum(waiting_counts(conn, hall_id).values())


@lru_cache(maxsize=64)
def _issued_sql(n: int) -> TextClause:
    return text(
        f"SELECT coalesce(sum(last), 0) FROM number_counters WHERE hall_id = :hall AND day = :day"
        f" AND prefix IN ({_names('p', n)})"
    )


def issued_today(conn: Connection, hall: HallInfo, day: str, category: str) -> int:
    """Numbers `category` gave on the hall-local `day` (what its daily cap limits), summed
    over its printed prefixes (A, YA, VA …): a ticket transferred in takes none of its 号源."""
    prefixes = sorted({printed_prefix(category, k, hall.layout.rules) for k in QueueClass})
    return int(conn.execute(_issued_sql(len(prefixes)), {"hall": hall.id, "day": day, **_binds("p", prefixes)}).scalar_one())


# --- open windows, service times and the estimate ---------------------------------------------


@lru_cache(maxsize=256)
def _windows_sql(n: int) -> TextClause:
    return text(
        f"SELECT number, current_ticket_id FROM windows WHERE hall_id = :hall AND number IN ({_names('w', n)})"
        " AND active = :yes AND paused = :no AND staff_user_id IS NOT NULL"
    ).bindparams(bindparam("yes", True), bindparam("no", False))


def open_windows(conn: Connection, hall_id: int, numbers: Sequence[int]) -> tuple[int, int]:
    """(open, idle) among the windows `numbers`: open = active, a clerk signed in, not paused;
    idle = open and holding no ticket."""
    if not numbers:
        return 0, 0
    rows = conn.execute(_windows_sql(len(numbers)), {"hall": hall_id, **_binds("w", list(numbers))}).all()
    return len(rows), sum(1 for r in rows if r.current_ticket_id is None)


_OPEN_WINDOWS = text(
    "SELECT number FROM windows WHERE hall_id = :hall"
    " AND active = :yes AND paused = :no AND staff_user_id IS NOT NULL"
).bindparams(bindparam("yes", True), bindparam("no", False))


def open_window_numbers(conn: Connection, hall_id: int) -> frozenset[int]:
    """The numbers of the windows `open_windows` counts as open."""
    return frozenset(int(r.number) for r in conn.execute(_OPEN_WINDOWS, {"hall": hall_id}))


_RECENT_ARRIVALS = text(
    "SELECT category, COUNT(*) AS n FROM tickets WHERE hall_id = :hall AND issued_at >= :since"
    " GROUP BY category"
)


def recent_arrivals(conn: Connection, hall_id: int, since: float) -> dict[str, int]:
    """Tickets issued per category at or after `since` (every channel)."""
    return {str(r.category): int(r.n) for r in conn.execute(_RECENT_ARRIVALS, {"hall": hall_id, "since": since})}


@lru_cache(maxsize=64)
def _service_sql(n: int) -> Any:
    return text(
        f"SELECT category, samples FROM recent_service WHERE hall_id = :hall AND category IN ({_names('c', n)})"
    ).columns(category=String, samples=JSON)


def recent_service_minutes(conn: Connection, hall_id: int, categories: Sequence[str], now: float) -> list[float]:
    """Service minutes of the recent finished services of these categories (the last few of
    each, none older than RECENT_SERVICE_SECONDS)."""
    if not categories:
        return []
    since = now - RECENT_SERVICE_SECONDS
    out: list[float] = []
    for row in conn.execute(_service_sql(len(categories)), {"hall": hall_id, **_binds("c", list(categories))}):
        out += [float(m) for at, m in (row.samples or []) if at >= since]
    return out


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """The one wait estimate (docs/CONTRACTS.md "Wait estimate"); `to_dict()` is what every
    answer carries. `state`: `ok`, or `no_window` when no open window serves the ticket now
    (then p50/p90 are None); `next_open_at` (ISO) when the hall's hours say when it opens."""

    ahead: int
    p50_minutes: float | None
    p90_minutes: float | None
    state: str
    next_open_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ahead": self.ahead, "p50_minutes": self.p50_minutes, "p90_minutes": self.p90_minutes, "state": self.state,
        }
        if self.next_open_at is not None:
            out["next_open_at"] = self.next_open_at
        return out


@lru_cache(maxsize=256)
def _estimate_sql(n_cats: int, n_windows: int) -> TextClause:
    # people_ahead's count, the ticket's category's waiting count and open_windows' two figures
    # in one statement: one round trip instead of three while a write holds the hall's lock
    # (issue 14), and one snapshot for all. Same definitions: the ahead expression is
    # _ahead_sql's, the window condition _windows_sql's.
    ahead = str(_ahead_sql(n_cats))[len("SELECT "):]
    where = (
        f"FROM windows WHERE hall_id = :hall AND number IN ({_names('w', n_windows)})"
        " AND active = :yes AND paused = :no AND staff_user_id IS NOT NULL"
    )
    return text(
        f"SELECT {ahead} AS ahead,"
        " (SELECT coalesce(sum(n), 0) FROM waiting_counts WHERE hall_id = :hall AND category = :category) AS waiting,"
        f" (SELECT count(*) {where}) AS open,"
        f" (SELECT count(*) {where} AND current_ticket_id IS NULL) AS idle"
    ).bindparams(bindparam("yes", True), bindparam("no", False))


def estimate(conn: Connection, hall: HallInfo, ticket: Ticket, now: float) -> WaitEstimate | None:
    """The wait estimate of a waiting `ticket` (None for a ticket not waiting): people ahead,
    the open windows that can call it (the named window of a ticket transferred to one, else
    every window serving its category), and the recent service times of the competing
    categories (the layout's minutes of its category until there are enough)."""
    if ticket.status is not TicketStatus.WAITING:
        return None
    return estimate_and_waiting(conn, hall, ticket, now)[0]


def estimate_and_waiting(conn: Connection, hall: HallInfo, ticket: Ticket, now: float) -> tuple[WaitEstimate | None, int]:
    """`estimate`, and the waiting count of the ticket's category (`waiting_in`), read
    together: what issuing needs, in one statement (plus the service times when a window is
    open)."""
    if ticket.status is not TicketStatus.WAITING:
        return None, waiting_in(conn, hall.id, ticket.category)
    numbers = [ticket.target_window] if ticket.target_window is not None else hall.windows_serving(ticket.category)
    cats = hall.competing_categories(ticket.category)
    if not numbers:
        ahead, waiting, n_open, idle = people_ahead(conn, hall, ticket), waiting_in(conn, hall.id, ticket.category), 0, 0
    else:
        row = conn.execute(
            _estimate_sql(len(cats), len(numbers)),
            {"hall": hall.id, "key": ticket.queue_key, "id": ticket.id, "category": ticket.category,
             **_binds("c", cats), **_binds("w", list(numbers))},
        ).one()
        # As people_ahead: the ticket itself is among the waiting and not later than itself.
        ahead, waiting, n_open, idle = max(0, int(row.ahead) - 1), int(row.waiting), int(row.open), int(row.idle)
    return _estimate_from(hall, ticket, now, conn, ahead, n_open, idle), waiting


def _estimate_from(
    hall: HallInfo, ticket: Ticket, now: float, conn: Connection, ahead: int, n_open: int, idle: int
) -> WaitEstimate:
    if n_open == 0:
        return WaitEstimate(ahead, None, None, "no_window", _next_open_at(hall, ticket.category, now))
    samples = recent_service_minutes(conn, hall.id, hall.competing_categories(ticket.category), now)
    mean, cv = service_stats(samples, hall.layout.category(ticket.category).service_minutes)
    est = estimate_wait(ahead, float(n_open), mean, cv=cv, idle_windows=idle)
    return WaitEstimate(ahead, est.p50_minutes, est.p90_minutes, "ok")


def _next_open_at(hall: HallInfo, category: str, now: float) -> str | None:
    # Only the hours know when windows open again (a lunch break, tomorrow morning); while the
    # hall is open and nobody is signed in, nothing says when someone will be.
    state = opening(hall.layout, category, now, hall_calendar(hall.settings))
    return None if state.next_open is None else iso(state.next_open, hall.tz)


# --- longest wait and service level -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LongestWait:
    id: int
    number: str
    category: str
    waited_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "category": self.category, "waited_seconds": self.waited_seconds}


@lru_cache(maxsize=64)
def _longest_sql(n: int) -> TextClause:
    # One seek of ix_tickets_wait per category: the waiting ticket with the smallest origin.
    parts = [
        f"SELECT * FROM (SELECT id, number, category, wait_origin FROM tickets WHERE hall_id = :hall"
        f" AND status = 'waiting' AND category = :c{i} AND wait_origin IS NOT NULL"
        f" ORDER BY wait_origin, id LIMIT 1) AS w{i}"
        for i in range(n)
    ]
    return text(" UNION ALL ".join(parts))


def longest_waits(conn: Connection, hall_id: int, categories: Sequence[str], now: float) -> dict[str, LongestWait]:
    """Per category (of `categories`), the waiting ticket that has waited longest so far, on
    `queueing.metrics`' definition (from wait start — issue, or slot start for an appointment —
    with the waits of a transferred or resumed ticket added up; restarted by a re-check-in)."""
    if not categories:
        return {}
    rows = conn.execute(_longest_sql(len(categories)), {"hall": hall_id, **_binds("c", list(categories))}).all()
    return {r.category: LongestWait(r.id, r.number, r.category, max(0.0, now - r.wait_origin)) for r in rows}


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    within_minutes: float
    share: float | None  # None while nobody counts
    called: int  # tickets whose wait ended by a call
    abandoned: int  # tickets that left after waiting longer than the limit (they count as missed)

    def to_dict(self) -> dict[str, Any]:
        return {"within_minutes": self.within_minutes, "share": self.share, "count": self.called,
                "abandoned": self.abandoned}


_DAY_EVENTS = (
    select(EventRow.ticket_id, EventRow.type, EventRow.at, EventRow.data)
    .where(
        EventRow.hall_id == bindparam("hall"), EventRow.at >= bindparam("start"),
        EventRow.ticket_id.in_(
            select(TicketRow.id).where(TicketRow.hall_id == bindparam("hall"), TicketRow.day == bindparam("day"))
        ),
    )
    .order_by(EventRow.seq)
)


def service_level(conn: Connection, hall: HallInfo, day: str, day_start: float, within_seconds: float) -> ServiceLevel:
    """The service level of the tickets issued on the hall-local `day` (starting at the
    instant `day_start`), exactly as `queueing.metrics` defines it: called within the limit
    over called plus abandoned after the limit, waits from the tickets' events."""
    trails: dict[int, list[tuple[str, float, Mapping[str, Any]]]] = {}
    for tid, kind, at, data in conn.execute(_DAY_EVENTS, {"hall": hall.id, "day": day, "start": day_start}):
        trails.setdefault(tid, []).append((kind, at, data or {}))
    waits: list[float] = []
    abandoned: list[float] = []
    for events in trails.values():
        w = metrics.wait_seconds(events)
        if w is not None:
            waits.append(w)
        else:
            a = metrics.abandoned_wait_seconds(events)
            if a is not None:
                abandoned.append(a)
    share = metrics.service_level(waits, within_seconds, abandoned)
    late = sum(1 for a in abandoned if a > within_seconds)
    return ServiceLevel(within_seconds / 60.0, share, len(waits), late)


# --- device presence --------------------------------------------------------------------------


def offline_seconds(settings: Mapping[str, Any] | None) -> float:
    """The hall's `operations.device_offline_seconds` (default 90): a device silent this long
    is offline. Raises ValueError for a value that is not a positive number."""
    raw = ((settings or {}).get("operations") or {}).get("device_offline_seconds", DEFAULT_OFFLINE_SECONDS)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("device_offline_seconds must be a number of seconds")
    value = float(raw)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError("device_offline_seconds must be a positive number of seconds")
    return value


@dataclass(frozen=True, slots=True)
class Presence:
    """A device as the hall sees it now. `online`: it reported itself working within the
    hall's `device_offline_seconds`; `last_seen` None for a registered device never heard."""

    code: str
    kind: str
    name: str
    window: int | None
    online: bool
    last_seen: float | None
    detail: str | None = None
    registered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind, "window": self.window,
                "online": self.online, "last_seen": self.last_seen, "detail": self.detail}


def device_presence(conn: Connection, hall_id: int, now: float, offline_after: float) -> list[Presence]:
    """Every device of the hall, sorted by code: the registered ones (a registered device that
    never reported is offline) and those bridges report. Online means its last report said
    it works and came no more than `offline_after` seconds ago."""
    return devices_by_hall(conn, [hall_id], now, {hall_id: offline_after}).get(hall_id, [])


def devices_by_hall(
    conn: Connection, hall_ids: Sequence[int], now: float, offline_after: Mapping[int, float], *, every: bool = False
) -> dict[int, list[Presence]]:
    """`device_presence` for several halls in two statements (the city view), each hall by its
    own `offline_after`. `every`: `hall_ids` are all the halls there are (no filter to bind)."""
    ids = list(hall_ids)
    reports: dict[int, dict[str, Any]] = {}
    for rep in conn.execute(_of_halls(
        select(DevicePresence.hall_id, DevicePresence.code, DevicePresence.kind, DevicePresence.name,
               DevicePresence.window, DevicePresence.online, DevicePresence.last_seen, DevicePresence.detail),
        DevicePresence.hall_id, ids, every,
    )):
        reports.setdefault(rep.hall_id, {})[rep.code] = rep
    registered: dict[int, dict[str, Any]] = {}
    for dev in conn.execute(_of_halls(
        select(Device.hall_id, Device.code, Device.kind, Device.name, Device.window).where(Device.active.is_(True)),
        Device.hall_id, ids, every,
    )):
        registered.setdefault(dev.hall_id, {})[dev.code] = dev
    out: dict[int, list[Presence]] = {}
    for hid in ids:
        rows, regs = reports.get(hid, {}), registered.get(hid, {})
        after = offline_after.get(hid, DEFAULT_OFFLINE_SECONDS)
        seen = []
        for code in sorted(set(rows) | set(regs)):
            r, d = rows.get(code), regs.get(code)
            if r is None:
                assert d is not None
                seen.append(Presence(code, d.kind, d.name or code, d.window, False, None, None, True))
                continue
            fresh = now - r.last_seen <= after
            seen.append(Presence(
                code, r.kind or (d.kind if d else ""), (d.name if d is not None and d.name else r.name) or code,
                r.window if r.window is not None else (d.window if d else None),
                bool(r.online) and fresh, r.last_seen, r.detail if fresh else SILENT, d is not None,
            ))
        out[hid] = seen
    return out


# --- across halls (the city view) -------------------------------------------------------------
# The same definitions as the per-hall functions above, grouped by hall in one statement each so
# that a city of hundreds of halls is read in a handful of statements. `every=True` says the ids
# are every hall there is, so the statement needs no list of hundreds of ids to bind and plan.


def _of_halls(query: Any, column: Any, hall_ids: Sequence[int], every: bool) -> Any:
    return query if every else query.where(column.in_(list(hall_ids)))


def waiting_by_hall(conn: Connection, hall_ids: Sequence[int], *, every: bool = False) -> dict[int, int]:
    """`waiting_in(hall)` for several halls: the kept counts, summed."""
    rows = conn.execute(_of_halls(
        select(WaitingCount.hall_id, func.sum(WaitingCount.n)), WaitingCount.hall_id, hall_ids, every,
    ).group_by(WaitingCount.hall_id))
    return {int(h): int(n or 0) for h, n in rows}


def longest_wait_by_hall(
    conn: Connection, hall_ids: Sequence[int], now: float, *, every: bool = False
) -> dict[int, float]:
    """The longest wait so far in each hall: the largest of `longest_waits`' per category (the
    waiting ticket with the earliest wait origin)."""
    rows = conn.execute(_of_halls(
        select(TicketRow.hall_id, func.min(TicketRow.wait_origin))
        .where(TicketRow.status == TicketStatus.WAITING.value, TicketRow.wait_origin.is_not(None)),
        TicketRow.hall_id, hall_ids, every,
    ).group_by(TicketRow.hall_id))
    return {int(h): max(0.0, now - float(origin)) for h, origin in rows if origin is not None}


def windows_by_hall(conn: Connection, hall_ids: Sequence[int], *, every: bool = False) -> dict[int, tuple[int, int]]:
    """Per hall (open, active) windows, open as in `open_windows`: a clerk signed in, not paused."""
    is_open = case((and_(WindowRow.staff_user_id.is_not(None), WindowRow.paused.is_(False)), 1), else_=0)
    rows = conn.execute(_of_halls(
        select(WindowRow.hall_id, func.sum(is_open), func.count()).where(WindowRow.active.is_(True)),
        WindowRow.hall_id, hall_ids, every,
    ).group_by(WindowRow.hall_id))
    return {int(h): (int(o or 0), int(n)) for h, o, n in rows}
