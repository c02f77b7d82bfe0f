"""The operations loop started by the app's lifespan (`start_background`).

Every `interval` seconds, for every hall: open 差评整改 cases from new `ticket.rated` events,
record default ratings whose period is over (when the hall configures one), mark appointment
no-shows, raise and clear alerts (and tell the managers through the notifier), notify people
(N ahead, called), keep the hall's service level today for the city view, and queue and post
webhooks. Each step is its own short transaction in a
worker thread; one failing step is logged and does not stop the others or the loop.

Person notifications are recorded (one row per ticket and kind) before they are sent, so a
restart or a second process never sends the same SMS twice; a send that fails is logged, not
retried (a late "you are called" SMS is worse than none).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
from sqlalchemy import Connection, func, insert, select

from displays.messages import say
from hall.core.estimate import ForecastSource, current_estimate, estimate_words
from hall.core.events import EventType
from hall.core.queries import people_ahead
from hall.core.registry import HallInfo
from hall.operations.appointments.store import sweep_no_shows
from hall.operations.cases.store import overdue_notices, sync_cases
from hall.operations.city.store import refresh_day_figures
from hall.operations.config import OpsConfig
from hall.operations.cursors import advance, read_cursor
from hall.operations.live.store import check_alerts
from hall.operations.notify import LogNotifier, Notifier
from hall.operations.replication.store import replica_codes
from hall.operations.threads import finish_in_thread
from hall.operations.webhooks.store import deliver_due, enqueue
from hall.store.models import EventRow, Rating, TicketRow
from hall.store.operation_models import PersonNotice
from hall.store.ticketmap import ticket_from_row
from queueing.tickets import QueueClass

__all__ = ["OperationsLoop", "record_default_ratings", "person_notices"]

log = logging.getLogger("hall.operations")
DAY = 86_400.0


def record_default_ratings(
    db: Any, hall: HallInfo, cfg: OpsConfig, now: float, limit: int = 200, published: list[Any] | None = None
) -> int:
    """Rate with the hall's default level the finished tickets whose rating period is over; their
    `ticket.rated` envelopes are appended to `published` for the caller to publish."""
    if cfg.rating.default_level is None:
        return 0
    from hall.core.tx import run_write

    level = cfg.rating.default_level
    cutoff = now - cfg.rating.period_days * DAY

    def work(tx: Any) -> tuple[int, dict[str, Any]]:
        rated = select(Rating.ticket_id).where(Rating.hall_id == hall.id)
        rows = tx.conn.execute(
            select(TicketRow.id, TicketRow.number, TicketRow.category, TicketRow.window)
            .where(TicketRow.hall_id == hall.id, TicketRow.status == "finished", TicketRow.finished_at < cutoff,
                   TicketRow.id.not_in(rated))
            .order_by(TicketRow.id).limit(limit)
        ).all()
        for r in rows:
            tx.conn.execute(insert(Rating).values(
                hall_id=hall.id, ticket_id=r.id, level=level, reasons=[], reason_pending=False,
                channel="default", window=r.window, staff_user_id=None, at=tx.now,
            ))
            tx.emit(EventType.TICKET_RATED, {"id": r.id, "number": r.number, "category": r.category, "window": r.window,
                                     "level": level, "channel": "default", "reasons": []},
                    ticket_id=r.id, window=r.window)
        return 200, {"rated": len(rows)}

    result = run_write(db, hall, None, work, now=now)
    if published is not None:
        published.extend(result.envelopes)
    return int(result.body["rated"])


def _ahead_candidates(conn: Connection, hall: HallInfo, n: int) -> list[Any]:
    """Waiting tickets that may have at most `n` people ahead: a ticket with `n` ahead is among
    the first n + 1 of its own category (its category is one of those it competes with), and
    those are among the first n + 1 of each of the category's queues."""
    out: list[Any] = []
    for c in hall.layout.categories:
        for klass in QueueClass:
            out += conn.execute(
                select(TicketRow)
                .where(TicketRow.hall_id == hall.id, TicketRow.status == "waiting", TicketRow.category == c.code,
                       TicketRow.queue_class == klass.value)
                .order_by(TicketRow.queue_key, TicketRow.id).limit(n + 1)
            ).all()
    return out


def person_notices(conn: Connection, hall: HallInfo, cfg: OpsConfig, crypto: Any, now: float,
                   forecasts: ForecastSource | None = None) -> list[tuple[str, str, str]]:
    """Record the notices due now; returns (phone, text, kind) to send after the commit.

    "Ahead" and the estimate are the ones every surface shows (hall.core.estimate.current_estimate,
    from the latest fresh forecast in `forecasts` when there is one)."""
    out: list[tuple[str, str, str]] = []
    start = read_cursor(conn, hall.id, "notices", lock=True)
    calls = conn.execute(
        select(EventRow.seq, EventRow.ticket_id, EventRow.window)
        .where(EventRow.hall_id == hall.id, EventRow.seq > start, EventRow.type == EventType.TICKET_CALLED)
        .order_by(EventRow.seq).limit(500)
    ).all()
    last = conn.execute(select(func.max(EventRow.seq)).where(EventRow.hall_id == hall.id)).scalar() or start
    if calls and len(calls) == 500:
        last = calls[-1].seq

    def noticed(ticket_id: int, kind: str) -> bool:
        return conn.execute(
            select(PersonNotice.ticket_id).where(PersonNotice.ticket_id == ticket_id, PersonNotice.kind == kind)
        ).first() is not None

    def record(ticket_id: int, kind: str) -> None:
        conn.execute(insert(PersonNotice).values(ticket_id=ticket_id, kind=kind, hall_id=hall.id, at=now, channel="sms"))

    for ev in calls:
        t = conn.execute(select(TicketRow.number, TicketRow.phone_enc).where(TicketRow.id == ev.ticket_id)).first()
        if t is None or not t.phone_enc or noticed(ev.ticket_id, "called"):
            continue
        record(ev.ticket_id, "called")
        out.append((crypto.decrypt(t.phone_enc, "phone"), f"请{t.number}号到{ev.window}号窗口办理。", "called"))
    if cfg.notify_ahead > 0 and calls:
        for row in _ahead_candidates(conn, hall, cfg.notify_ahead):
            if not row.phone_enc or noticed(row.id, "ahead"):
                continue
            ticket = ticket_from_row(row)
            ahead = people_ahead(conn, hall, ticket)
            if ahead <= cfg.notify_ahead:
                record(row.id, "ahead")
                given = current_estimate(conn, hall, ticket, now, forecasts)
                wait = estimate_words(given) if given is not None else None
                text = (say("notice.ahead_wait", number=row.number, ahead=ahead, wait=wait) if wait
                        else f"您的{row.number}号前面还有{ahead}人，请回到大厅等候叫号。")
                out.append((crypto.decrypt(row.phone_enc, "phone"), text, "ahead"))
    if last > start:
        advance(conn, hall.id, "notices", last)
    return out


def _replica_codes(db: Any) -> set[str]:
    with db.read() as conn:
        return replica_codes(conn)


def _figures(db: Any, hall: HallInfo, now: float) -> bool:
    with db.write() as conn:
        return refresh_day_figures(conn, hall, now)


class OperationsLoop:
    """The background loop of one server process."""

    def __init__(self, state: Any, notifier: Notifier | None = None, interval: float = 2.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.state = state
        self.notifier: Notifier = notifier or LogNotifier()
        self.interval = interval
        self.client = client

    def config(self, hall: HallInfo) -> OpsConfig:
        return OpsConfig.build(hall.layout, hall.settings)

    async def _step(self, name: str, fn: Callable[[], Any]) -> Any:
        try:
            return await finish_in_thread(fn)
        except Exception:  # noqa: BLE001 - one failing step must not stop the loop
            log.exception("operations step %s failed", name)
            return None

    async def once(self, now: float | None = None) -> None:
        st = self.state
        db = st.db
        replicas = await self._step("replicas", partial(_replica_codes, db)) or set()
        for hall in list(st.registry.all()):
            t = float(st.clock.now()) if now is None else now
            if hall.code in replicas:
                # Its site runs it (cases, ratings, notices, alerts happen there and arrive by
                # replication); here only the city view's figures are kept.
                await self._step("day_figures", partial(_figures, db, hall, t))
                continue
            try:
                cfg = self.config(hall)
            except ValueError:
                log.exception("bad operations settings for hall %s", hall.code)
                continue

            def cases(hall: HallInfo = hall, cfg: OpsConfig = cfg, t: float = t) -> Any:
                with db.write() as conn:
                    sync_cases(conn, hall.id, cfg, t)
                    # Serialized with the case reader by its cursor lock: announced once.
                    return overdue_notices(conn, hall.id, t)

            def noshows(hall: HallInfo = hall, cfg: OpsConfig = cfg, t: float = t) -> Any:
                with db.write() as conn:
                    return sweep_no_shows(conn, hall.id, cfg, t)

            def alerts(hall: HallInfo = hall, cfg: OpsConfig = cfg, t: float = t) -> Any:
                with db.write() as conn:
                    return check_alerts(conn, hall.id, cfg, t, hall.layout)

            def notices(hall: HallInfo = hall, cfg: OpsConfig = cfg, t: float = t) -> Any:
                with db.write() as conn:
                    return person_notices(conn, hall, cfg, st.crypto, t, getattr(st, "ticket_forecasts", None))

            envelopes: list[Any] = []
            await self._step("default_ratings",
                             partial(record_default_ratings, db, hall, cfg, t, published=envelopes))
            if envelopes and hasattr(st, "publish"):
                try:
                    await st.publish(envelopes)
                except Exception:  # noqa: BLE001 - the events are stored; the hub fills gaps
                    log.exception("publishing default ratings failed")
            contacts = list((hall.settings.get("operations") or {}).get("alert_contacts") or ["manager"])
            for case_id, number in await self._step("cases", cases) or []:
                for to in contacts:
                    await self._send("manager", str(to), f"【{hall.name}】差评整改#{case_id}（{number}）已逾期", "case_overdue")
            await self._step("no_shows", noshows)
            changed = await self._step("alerts", alerts)
            if changed:
                raised, cleared = changed
                for a in raised:
                    for to in contacts:
                        await self._send("manager", str(to), f"【{hall.name}】{a.message}", "alert")
                for row in cleared:
                    for to in contacts:
                        await self._send("manager", str(to), f"【{hall.name}】已恢复：{row.message}", "alert_cleared")
            for phone, text, kind in await self._step("notices", notices) or []:
                await self._send("sms", phone, text, kind)
            await self._step("day_figures", partial(_figures, db, hall, t))

        t_hooks = float(st.clock.now()) if now is None else now

        def queue() -> Any:
            with db.write() as conn:
                return enqueue(conn, t_hooks)

        await self._step("webhook_enqueue", queue)
        if self.client is not None:
            try:
                await deliver_due(db, self.client, t_hooks, crypto=getattr(st, "crypto", None))
            except Exception:  # noqa: BLE001
                log.exception("webhook delivery failed")

    async def _send(self, channel: str, to: str, text: str, kind: str) -> None:
        try:
            await self.notifier.send(channel, to, text, kind)
        except Exception:  # noqa: BLE001 - a notification gateway being down is not our failure
            log.exception("notification %s to %s failed", kind, channel)

    async def run(self) -> None:
        own_client = self.client is None
        if own_client:
            self.client = httpx.AsyncClient(timeout=10.0)
        try:
            while True:
                await self.once()
                await asyncio.sleep(self.interval)
        finally:
            if own_client and self.client is not None:
                await self.client.aclose()
