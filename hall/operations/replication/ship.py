"""The site's replication loop (`HALL_CITY_URL` and `HALL_CITY_TOKEN` set): every `interval`
seconds, for each hall of this server, ship the next batch of its log to the city, resumed from
the seq the city acknowledged, and apply the requests the city sends down through this server's
own API (its own transaction, the request's idempotency key), reporting each result with the
next batch. While the link is down nothing here waits on it: the hall issues and calls as
before, and the loop retries with a capped backoff until the city answers again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
from sqlalchemy import insert, select
from starlette.types import ASGIApp, Receive, Scope, Send

from hall.operations.replication.rules import BATCH_EVENTS
from hall.operations.replication.store import read_batch, save_site_cursor, site_cursor
from hall.security.auth import hash_password, issue_token
from hall.store.models import TicketRow, User
from hall.store.operation_models import CaseRow

__all__ = ["Shipper"]

log = logging.getLogger("hall.replication")
SYNC_USER = "city-sync"


class _WithState:
    """This server's app with its lifespan state, for requests the loop sends to itself."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = dict(scope)
        scope["state"] = {"hall": self.state}
        await self.app(scope, receive, send)


class Shipper:
    def __init__(self, state: Any, app: ASGIApp, city_url: str, token: str, interval: float = 1.0,
                 timeout: float = 10.0, client: httpx.AsyncClient | None = None, batch: int = BATCH_EVENTS) -> None:
        self.state = state
        self.city = city_url.rstrip("/")
        self.token = token
        self.interval = interval
        self.timeout = timeout
        self.batch = batch
        self.client = client
        self.local = httpx.AsyncClient(transport=httpx.ASGITransport(app=_WithState(app, state)),
                                       base_url="http://site.local", timeout=30.0)
        self._local_token: str | None = None
        self._applied: dict[int, list[dict[str, Any]]] = {}
        self.failures = 0

    async def _in_thread(self, fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    def _sync_token(self) -> str:
        """A token of this server's own system user, for the requests the city sends down."""
        with self.state.db.write() as conn:
            uid = conn.execute(select(User.id).where(User.username == SYNC_USER)).scalar()
            if uid is None:
                uid = conn.execute(insert(User).values(
                    username=SYNC_USER, name="市级同步", role="admin",
                    password_hash=hash_password(secrets.token_urlsafe(24)), active=True, created_at=self.state.clock.now(),
                ).returning(User.id)).scalar_one()
            return issue_token(conn, user_id=uid, hours=24 * 365)

    async def once(self) -> bool:
        """One round over this server's halls; True when every hall is caught up."""
        assert self.client is not None
        caught_up = True
        for hall in list(self.state.registry.all()):
            try:
                caught_up = await self._ship(hall) and caught_up
            except (httpx.HTTPError, OSError) as e:
                caught_up = False
                await self._note_error(hall.id, f"{type(e).__name__}: {e}")
                raise
        return caught_up

    async def _note_error(self, hall_id: int, error: str) -> None:
        now = self.state.clock.now()

        def work() -> None:
            with self.state.db.write() as conn:
                save_site_cursor(conn, hall_id, now, error=error)

        await self._in_thread(work)

    async def _ship(self, hall: Any) -> bool:
        assert self.client is not None
        db = self.state.db

        def read() -> tuple[dict[str, Any], int]:
            with db.read() as conn:
                cur = site_cursor(conn, hall.id)
                after = int(cur.acked_seq) if cur is not None else 0
                since = cur.last_ok_at if cur is not None else None
                applied_upto = int(cur.applied_request) if cur is not None else 0
                return read_batch(conn, hall.id, after, since, self.batch), applied_upto

        body, applied_upto = await self._in_thread(read)
        body["applied"] = self._applied.get(hall.id, [])
        r = await self.client.post(f"{self.city}/api/replication/{hall.code}/batch", json=body,
                                   headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout)
        if r.status_code == 409 and r.json().get("error") == "replication_gap":
            acked = int(r.json()["acked_seq"])
            await self._save(hall.id, acked=acked)
            return False
        r.raise_for_status()
        out = r.json()
        self._applied[hall.id] = []
        acked = int(out["acked_seq"])
        await self._save(hall.id, acked=acked)
        for req in out.get("requests") or []:
            if int(req["id"]) <= applied_upto:
                # Applied here before a restart lost its answer: say so rather than apply twice.
                self._applied.setdefault(hall.id, []).append(
                    {"id": req["id"], "status": 200, "body": {"note": "applied before the site restarted"}})
                continue
            status, result = await self._apply(hall, req)
            self._applied.setdefault(hall.id, []).append({"id": req["id"], "status": status, "body": result})
            await self._save(hall.id, applied=int(req["id"]))
        return acked >= int(body["site_seq"]) and not self._applied.get(hall.id)

    async def _save(self, hall_id: int, *, acked: int | None = None, applied: int | None = None) -> None:
        now = self.state.clock.now()

        def work() -> None:
            with self.state.db.write() as conn:
                save_site_cursor(conn, hall_id, now, acked=acked, applied=applied)

        await self._in_thread(work)

    async def _apply(self, hall: Any, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply a request from the city through this server's own API."""
        if self._local_token is None:
            self._local_token = await self._in_thread(self._sync_token)
        body = dict(req.get("body") or {})
        path = str(req["path"])
        case_ticket = body.pop("_case_ticket", None)
        if isinstance(case_ticket, dict):
            def find() -> Any:
                with self.state.db.read() as conn:
                    return conn.execute(select(CaseRow.id).join(TicketRow, TicketRow.id == CaseRow.ticket_id).where(
                        TicketRow.hall_id == hall.id, TicketRow.day == case_ticket.get("day"),
                        TicketRow.number == case_ticket.get("number"))).scalar()

            case_id = await self._in_thread(find)
            if case_id is None:
                return 404, {"error": "not_found", "message": "the case is not at the site"}
            head, _, tail = path.partition("/ops/cases/")
            path = f"{head}/ops/cases/{case_id}/{tail.split('/', 1)[1]}"
        r = await self.local.request(
            str(req["method"]), path, json=body,
            headers={"Authorization": f"Bearer {self._local_token}", "Idempotency-Key": str(req["idempotency_key"])},
        )
        try:
            result = r.json()
        except ValueError:
            result = {}
        if r.status_code >= 400:
            log.warning("request %s from the city failed here: %s %s", req["id"], r.status_code, result)
        return r.status_code, result if isinstance(result, dict) else {"body": result}

    async def run(self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        own = self.client is None
        if own:
            self.client = httpx.AsyncClient(timeout=self.timeout)
        try:
            while True:
                try:
                    caught_up = await self.once()
                    self.failures = 0
                    await sleep(self.interval if caught_up else 0.05)
                except (httpx.HTTPError, OSError) as e:
                    self.failures += 1
                    log.warning("replication to %s failed (%s); retrying", self.city, e)
                    # Capped low: a township whose link returns should catch up within seconds.
                    await sleep(min(5.0, self.interval * 2 ** min(self.failures, 4)))
                except Exception:  # noqa: BLE001 - the loop must outlive any one bad round
                    log.exception("replication round failed")
                    await sleep(self.interval)
        finally:
            await self.local.aclose()
            if own and self.client is not None:
                await self.client.aclose()
