"""Closing the day (`hall close-day` and the nightly job): every ticket of an earlier hall-local
day that is still open is closed with a reason, and windows let go of them."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
from sqlalchemy import delete, select

from hall.core.tickets import T, emit_transition
from hall.core.tx import HallTx, run_write
from hall.store.database import Database
from hall.store.models import IdempotencyRecord
from hall.store.ticketmap import ticket_from_row
from queueing import lifecycle
from queueing.numbering import hall_day
from queueing.tickets import OPEN_STATUSES

__all__ = ["close_day", "nightly", "DEFAULT_REASON"]

log = logging.getLogger("hall.core.daily")
DEFAULT_REASON = "day_closed"


def close_day(
    db: Database, hall: Any, *, now: float, include_today: bool = False, reason: str = DEFAULT_REASON
) -> tuple[int, list[dict[str, Any]]]:
    """Close open tickets of days before today (and today's too with `include_today`) at the
    instant `now` (the caller's clock); returns (how many, envelopes to publish). Blocking; one
    transaction per hall."""
    today = hall_day(now, hall.timezone).isoformat()

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        q = select(T).where(T.c.hall_id == hall.id, T.c.status.in_([s.value for s in OPEN_STATUSES]))
        q = q.where(T.c.day <= today) if include_today else q.where(T.c.day < today)
        n = 0
        for row in tx.conn.execute(q.order_by(T.c.id)).all():
            t = ticket_from_row(row)
            emit_transition(tx, t, lifecycle.close(t, tx.now, reason))
            n += 1
        # Idempotency answers are for retries of the last moments; two days is plenty.
        tx.conn.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.hall_id == hall.id, IdempotencyRecord.created_at < tx.now - 2 * 86400)
        )
        tx.audit("day.close", today, {"closed": n, "include_today": include_today})
        return 200, {"closed": n}

    result = run_write(db, hall, None, work, now=now)
    return int(result.body["closed"]), result.envelopes


def _seconds_until(at: str, tz: Any, now: float) -> float:
    hour, minute = (int(x) for x in at.split(":"))
    local = datetime.fromtimestamp(now, tz)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


async def nightly(state: Any) -> None:
    """Each night at HALL_CLOSE_DAY_AT (hall-local) close that day's leftovers in every hall.

    Several processes may run this: the second finds nothing open and closes nothing.
    """
    at = state.settings.close_day_at
    if not at:
        return
    while True:
        halls = state.registry.all()
        if not halls:
            await asyncio.sleep(60)
            continue
        wait = min(_seconds_until(at, h.tz, state.clock.now()) for h in halls)
        await asyncio.sleep(max(1.0, wait))
        for h in state.registry.all():
            try:
                n, envs = await anyio.to_thread.run_sync(
                    partial(close_day, state.db, h, now=state.clock.now(), include_today=True, reason=DEFAULT_REASON)
                )
                await state.publish(envs)
                log.info("closed %d leftover tickets in %s", n, h.code)
            except Exception:  # noqa: BLE001 - try again tomorrow; the next start's close-day catches up
                log.exception("nightly close of %s failed", h.code)
        await asyncio.sleep(61)
