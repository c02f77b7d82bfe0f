"""The city view's figures read from the database, every hall at once (sync).

`refresh_day_figures` runs in the background loop for each hall whose event seq moved and keeps
today's service level (hall.core.queries.service_level, the one definition) in
`op_hall_day_figures`; `city_figures` then reads each figure for every hall in one grouped
statement, so a city of 400 halls costs a handful of statements, not 400 hall views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select

from hall.core.queries import (
    DEFAULT_OFFLINE_SECONDS,
    devices_by_hall,
    longest_wait_by_hall,
    offline_seconds,
    service_level,
    waiting_by_hall,
    windows_by_hall,
)
from hall.core.registry import HallInfo
from hall.operations.city.rules import HallFigures, replication_view
from hall.operations.ratings.rules import Level
from hall.operations.replication.store import replication_lag
from hall.store.models import HallCounter, Rating
from hall.store.operation_models import CaseRow, HallDayFigures
from queueing.numbering import day_start, hall_day

__all__ = ["refresh_day_figures", "city_figures"]

_CLOSED = ("closed", "withdrawn")


def refresh_day_figures(conn: Connection, hall: HallInfo, now: float) -> bool:
    """Recompute the hall's service level today when its seq moved or its day changed since
    the kept one; returns whether it did."""
    seq = conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == hall.id)).scalar() or 0
    day = hall_day(now, hall.layout.timezone)
    kept = conn.execute(
        select(HallDayFigures.day, HallDayFigures.seq, HallDayFigures.within_minutes)
        .where(HallDayFigures.hall_id == hall.id)
    ).first()
    within = float(hall.layout.rules.service_level_minutes)
    if kept is not None and kept.day == day.isoformat() and kept.seq == seq and kept.within_minutes == within:
        return False
    level = service_level(conn, hall, day.isoformat(), day_start(day, hall.layout.timezone), within * 60)
    conn.execute(delete(HallDayFigures).where(HallDayFigures.hall_id == hall.id))
    conn.execute(insert(HallDayFigures).values(
        hall_id=hall.id, day=day.isoformat(), seq=seq, within_minutes=within, share=level.share,
        called=level.called, abandoned=level.abandoned, computed_at=now,
    ))
    return True


def city_figures(conn: Connection, halls: Sequence[HallInfo], now: float, *, every: bool = False) -> list[HallFigures]:
    """Every hall's row of the city view, in the order given. `every`: `halls` are all the halls
    there are (a city manager's view), so no statement binds hundreds of ids."""
    ids = [h.id for h in halls]
    if not ids:
        return []
    waiting = waiting_by_hall(conn, ids, every=every)
    longest = longest_wait_by_hall(conn, ids, now, every=every)
    windows = windows_by_hall(conn, ids, every=every)
    after: dict[int, float] = {}
    for h in halls:
        try:
            after[h.id] = offline_seconds(h.settings)
        except ValueError:
            after[h.id] = DEFAULT_OFFLINE_SECONDS
    presence = devices_by_hall(conn, ids, now, after, every=every)
    offline = {hid: sum(1 for d in seen if not d.online) for hid, seen in presence.items()}
    days = {h.id: hall_day(now, h.layout.timezone) for h in halls}
    figures = select(HallDayFigures)
    kept = {r.hall_id: r for r in conn.execute(figures if every else figures.where(HallDayFigures.hall_id.in_(ids)))}
    ratings = _ratings_today(conn, halls, days, every)
    cases_q = (
        select(CaseRow.hall_id, func.count(), func.sum(case((CaseRow.due_at < now, 1), else_=0)))
        .where(CaseRow.status.not_in(_CLOSED))
    )
    if not every:
        cases_q = cases_q.where(CaseRow.hall_id.in_(ids))
    cases = {int(h): (int(o or 0), int(late or 0)) for h, o, late in conn.execute(cases_q.group_by(CaseRow.hall_id))}
    replicated = replication_lag(conn)
    out = []
    for h in halls:
        k = kept.get(h.id)
        fresh = k is not None and k.day == days[h.id].isoformat()
        open_, total = windows.get(h.id, (0, 0))
        n_ratings, n_bad = ratings.get(h.id, (0, 0))
        open_cases, overdue = cases.get(h.id, (0, 0))
        out.append(HallFigures(
            code=h.code, name=h.name, kind=h.layout.kind, waiting=waiting.get(h.id, 0), longest_wait_seconds=longest.get(h.id),
            service_level=k.share if fresh and k is not None else None,
            service_level_called=k.called if fresh and k is not None else 0,
            service_level_abandoned=k.abandoned if fresh and k is not None else 0,
            service_level_at=k.computed_at if fresh and k is not None else None,
            windows_open=open_, windows_total=total, devices_offline=offline.get(h.id, 0),
            ratings=n_ratings, bad_ratings=n_bad, cases_open=open_cases, cases_overdue=overdue,
            replication=replication_view(replicated.get(h.id), now),
        ))
    return out


def _ratings_today(
    conn: Connection, halls: Sequence[HallInfo], days: dict[int, Any], every: bool
) -> dict[int, tuple[int, int]]:
    """Per hall (ratings, bad ratings) given since its local midnight: one statement per time
    zone (a city's halls share one)."""
    by_start: dict[float, list[int]] = {}
    for h in halls:
        by_start.setdefault(day_start(days[h.id], h.layout.timezone), []).append(h.id)
    out: dict[int, tuple[int, int]] = {}
    bad = case((Rating.level <= int(Level.DISSATISFIED), 1), else_=0)
    for start, ids in by_start.items():
        query = select(Rating.hall_id, func.count(), func.sum(bad)).where(Rating.at >= start)
        if not (every and len(by_start) == 1):
            query = query.where(Rating.hall_id.in_(ids))
        for hid, n, n_bad in conn.execute(query.group_by(Rating.hall_id)):
            out[int(hid)] = (int(n), int(n_bad or 0))
    return out
