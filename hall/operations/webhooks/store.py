"""Signed webhooks fed from the events table by seq, with retries, back-off and a delivery log.

`enqueue` turns each endpoint's new events (seq above the endpoint's cursor) into deliveries, in
one transaction with the cursor, so every event is queued exactly once per endpoint, across
restarts. `deliver_due` posts pending deliveries in seq order per endpoint (a failure holds back
that endpoint's later events until its retry, so a receiver sees them in order); each attempt is
logged. Success = any 2xx answer; the delivery is then never sent again. A receiver drops the
rare duplicate (a crash between its 2xx and our commit) by `X-Hall-Delivery`.

Bodies are the export envelope `{seq, type, at, hall, data}` (no tokens, no staff accounts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import httpx
from sqlalchemy import Connection, func, insert, select, update

from hall.core.events import envelope, export_data
from hall.operations.threads import finish_in_thread
from hall.operations.webhooks.signing import backoff_seconds, signature_headers
from hall.operations.webhooks.targets import TargetGuard, UnsafeTarget, allowed_hosts
from hall.store.database import Database
from hall.store.models import EventRow, Hall
from hall.store.operation_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["DEFAULT_TYPES", "add_endpoint", "enqueue", "due_deliveries", "record_attempt", "deliver_due", "Due"]

# With no types configured, an endpoint gets ticket and rating events.
DEFAULT_TYPES = ("ticket.",)
BATCH = 500
LEASE = 120.0  # seconds a process holds an endpoint's head delivery while posting it


def _wanted(types: Sequence[str], event_type: str) -> bool:
    patterns = types or DEFAULT_TYPES
    return any(event_type == p or (p.endswith(".") and event_type.startswith(p)) for p in patterns)


def _seal(secret: str, crypto: Any) -> str:
    return "enc:" + crypto.encrypt(secret, "webhook") if crypto is not None else secret


def _open(stored: str, crypto: Any) -> str:
    if stored.startswith("enc:"):
        if crypto is None:
            raise ValueError("a webhook secret is encrypted: pass the server's PersonalData")
        return str(crypto.decrypt(stored[4:], "webhook"))
    return stored


def add_endpoint(
    conn: Connection, hall_id: int, url: str, secret: str, types: Sequence[str] = (), from_now: bool = True,
    crypto: Any = None, *, now: float,
) -> int:
    """Register a receiver at the instant `now`; with `from_now` it gets events after the
    current seq only. With `crypto` (the server's PersonalData) the shared secret is stored
    encrypted."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must be http(s)")
    if len(secret) < 16:
        raise ValueError("secret must be at least 16 characters")
    start = 0
    if from_now:
        start = conn.execute(select(func.max(EventRow.seq)).where(EventRow.hall_id == hall_id)).scalar() or 0
    return conn.execute(
        insert(WebhookEndpoint)
        .values(hall_id=hall_id, url=url, secret=_seal(secret, crypto), types=list(types), active=True,
                created_at=now, seq=start)
        .returning(WebhookEndpoint.id)
    ).scalar_one()


def enqueue(conn: Connection, now: float) -> int:
    """Queue deliveries for every active endpoint's new events; returns how many were queued."""
    from zoneinfo import ZoneInfo

    queued = 0
    endpoints = conn.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).with_for_update()
    ).all()
    for ep in endpoints:
        hall = conn.execute(select(Hall.code, Hall.timezone).where(Hall.id == ep.hall_id)).first()
        if hall is None:
            continue
        tz = ZoneInfo(hall.timezone)
        events = conn.execute(
            select(EventRow.seq, EventRow.type, EventRow.at, EventRow.data)
            .where(EventRow.hall_id == ep.hall_id, EventRow.seq > ep.seq)
            .order_by(EventRow.seq)
            .limit(BATCH)
        ).all()
        if not events:
            continue
        rows = []
        for ev in events:
            if not _wanted(ep.types or [], ev.type):
                continue
            env = envelope(ev.seq, ev.type, ev.at, hall.code, export_data(dict(ev.data or {})), tz)
            rows.append({
                "endpoint_id": ep.id, "seq": ev.seq, "type": ev.type,
                "body": json.dumps(env, ensure_ascii=False, separators=(",", ":")),
                "status": "pending", "attempts": 0, "next_at": now, "created_at": now,
            })
        if rows:
            conn.execute(insert(WebhookDelivery), rows)
            queued += len(rows)
        conn.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == ep.id).values(seq=events[-1].seq))
    return queued


@dataclass(frozen=True)
class Due:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    seq: int
    type: str
    body: str
    attempts: int
    allow: frozenset[str] = frozenset()  # hosts the hall's layout allow-lists


def due_deliveries(
    conn: Connection, now: float, per_endpoint: int = 50, crypto: Any = None, lease: float | None = None
) -> list[list[Due]]:
    """Per endpoint, its pending deliveries in seq order, when the oldest one is due now.

    With `lease` (seconds; inside a write transaction) the oldest one is claimed by moving its
    `next_at` forward with a guarded update, so a second server process skips that endpoint
    while this one posts (its `record_attempt` then sets the real next time)."""
    out: list[list[Due]] = []
    endpoints = conn.execute(
        select(WebhookEndpoint, Hall.layout).join(Hall, Hall.id == WebhookEndpoint.hall_id)
        .where(WebhookEndpoint.active.is_(True))
    ).all()
    for ep in endpoints:
        allow = allowed_hosts(ep.layout)
        rows = conn.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == ep.id, WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.seq)
            .limit(per_endpoint)
        ).all()
        if not rows or rows[0].next_at > now:
            continue
        if lease is not None:
            claimed = conn.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == rows[0].id, WebhookDelivery.next_at <= now)
                .values(next_at=now + lease)
            ).rowcount
            if claimed != 1:
                continue
        secret = _open(ep.secret, crypto)
        out.append([Due(r.id, ep.id, ep.url, secret, r.seq, r.type, r.body, r.attempts, allow) for r in rows])
    return out


def record_attempt(
    conn: Connection, delivery_id: int, ok: bool, status_code: int | None, error: str, now: float
) -> None:
    """Log one attempt; success marks the delivery done, failure schedules the next try."""
    attempts = conn.execute(
        select(WebhookDelivery.attempts).where(WebhookDelivery.id == delivery_id)
    ).scalar_one() + 1
    conn.execute(insert(WebhookAttempt).values(
        delivery_id=delivery_id, at=now, status_code=status_code, error=error[:300], ok=ok,
    ))
    values: dict[str, Any] = {"attempts": attempts}
    if ok:
        values.update(status="delivered", delivered_at=now)
    else:
        values.update(next_at=now + backoff_seconds(attempts))
    conn.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))


async def _post(client: httpx.AsyncClient, item: Due, now: float, guard: TargetGuard) -> tuple[bool, int | None, str]:
    body = item.body.encode("utf-8")
    headers = signature_headers(item.secret, int(now), body, item.type, item.delivery_id)
    try:
        # Again before every post: the name may resolve elsewhere since it was registered.
        await anyio.to_thread.run_sync(guard.with_allowed(item.allow).check, item.url)
    except UnsafeTarget as exc:
        return False, None, f"unsafe target: {exc}"
    try:
        # Never follow a redirect: its target was not checked (a 3xx is a failed attempt).
        answer = await client.post(item.url, content=body, headers=headers, follow_redirects=False)
    except httpx.HTTPError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"
    ok = 200 <= answer.status_code < 300
    return ok, answer.status_code, "" if ok else answer.text[:200]


async def deliver_due(
    db: Database, client: httpx.AsyncClient, now: float, crypto: Any = None, guard: TargetGuard | None = None
) -> int:
    """Post what is due at `now` (the server's clock); returns how many deliveries succeeded.
    Database work runs in threads. `guard` checks each target (public addresses only, unless
    the hall allow-lists the host; hall.operations.webhooks.targets)."""
    guard = guard or TargetGuard()

    def _due() -> list[list[Due]]:
        with db.write() as conn:
            return due_deliveries(conn, now, crypto=crypto, lease=LEASE)

    def _record(results: Iterable[tuple[int, bool, int | None, str]]) -> None:
        with db.write() as conn:
            for delivery_id, ok, code, error in results:
                record_attempt(conn, delivery_id, ok, code, error, now)

    delivered = 0
    for queue in await finish_in_thread(_due):
        results: list[tuple[int, bool, int | None, str]] = []
        for item in queue:
            ok, code, error = await _post(client, item, now, guard)
            results.append((item.delivery_id, ok, code, error))
            if not ok:
                break  # keep this receiver's events in order: the rest wait for the retry
            delivered += 1
        await finish_in_thread(partial(_record, results))
    return delivered
