"""Signed webhooks from the events table: signatures verify; a receiver that fails three times
still gets the event, once."""

from __future__ import annotations

import json

import anyio
import httpx
from sqlalchemy import select

from hall.operations.webhooks.signing import verify
from hall.operations.webhooks.store import add_endpoint, deliver_due, enqueue
from hall.operations.webhooks.targets import TargetGuard
from hall.security.crypto import PersonalData
from hall.store.operation_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.operations.conftest import World

SECRET = "a-very-secret-key-0123"
# The mock receivers are not on the network: the hall allow-lists their name.
GUARD = TargetGuard(frozenset({"receiver.test"}))


class Receiver:
    """Fails the first `failures` requests, then accepts; keeps what it accepted by delivery id."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.accepted: dict[str, dict[str, object]] = {}
        self.bad_signatures = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body = request.read()
        if not verify(SECRET, dict(request.headers), body, now=float(request.headers["x-hall-timestamp"])):
            self.bad_signatures += 1
            return httpx.Response(401)
        if self.calls <= self.failures:
            return httpx.Response(503, text="down")
        self.accepted.setdefault(request.headers["x-hall-delivery"], json.loads(body))
        return httpx.Response(204)


def test_receiver_failing_three_times_gets_every_event_once_in_order(world: World) -> None:
    crypto = PersonalData("webhook-test-key")
    with world.db.write() as conn:
        add_endpoint(conn, world.hall_id, "http://receiver.test/hook", SECRET, from_now=True, crypto=crypto, now=1000.0)
        stored = conn.execute(select(WebhookEndpoint.secret)).scalar_one()
    assert SECRET not in stored  # kept encrypted at rest
    t1 = world.ticket("A", 1000.0)
    t2 = world.ticket("B", 1001.0)
    world.rate(t1, 5, 1002.0)
    with world.db.write() as conn:
        assert enqueue(conn, 1003.0) == 3
    with world.db.write() as conn:
        assert enqueue(conn, 1004.0) == 0  # queued once only
    receiver = Receiver(failures=3)

    async def run() -> list[int]:
        sent = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
            now = 1005.0
            for _ in range(12):
                sent.append(await deliver_due(world.db, client, now, crypto=crypto, guard=GUARD))
                now += 20.0  # past each back-off (2, 4, 8 s)
        return sent

    sent = anyio.run(run)
    assert sum(sent) == 3 and receiver.bad_signatures == 0
    assert receiver.calls == 3 + 3  # three failures of the head, then one success per event
    seqs = [body["seq"] for body in receiver.accepted.values()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    types = [body["type"] for body in receiver.accepted.values()]
    assert types == ["ticket.issued", "ticket.issued", "ticket.rated"]
    assert {body["data"]["id"] for body in receiver.accepted.values()} == {t1, t2}
    with world.db.read() as conn:
        statuses = conn.execute(select(WebhookDelivery.status, WebhookDelivery.attempts).order_by(WebhookDelivery.seq)).all()
        log = conn.execute(select(WebhookAttempt.ok, WebhookAttempt.status_code).order_by(WebhookAttempt.id)).all()
    assert [tuple(s) for s in statuses] == [("delivered", 4), ("delivered", 1), ("delivered", 1)]
    assert [tuple(x) for x in log][:4] == [(False, 503), (False, 503), (False, 503), (True, 204)]


def test_unreachable_receiver_keeps_the_delivery_pending(world: World) -> None:
    with world.db.write() as conn:
        add_endpoint(conn, world.hall_id, "http://receiver.test/hook", SECRET, types=["ticket.rated"], now=1000.0)
    tid = world.ticket("A", 1000.0)
    world.rate(tid, 4, 1001.0)
    with world.db.write() as conn:
        assert enqueue(conn, 1002.0) == 1  # only the rating: the endpoint filters types

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def run() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            return await deliver_due(world.db, client, 1003.0, guard=GUARD)

    assert anyio.run(run) == 0
    with world.db.read() as conn:
        row = conn.execute(select(WebhookDelivery)).one()
    assert row.status == "pending" and row.attempts == 1 and row.next_at == 1005.0


def test_two_deliverers_at_once_post_each_event_once(world: World) -> None:
    with world.db.write() as conn:
        add_endpoint(conn, world.hall_id, "http://receiver.test/hook", SECRET, now=1000.0)
    for i in range(5):
        world.ticket("A", 1000.0 + i)
    with world.db.write() as conn:
        assert enqueue(conn, 1010.0) == 5
    receiver = Receiver(failures=0)

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
            got = []
            for now in (1011.0, 1012.0, 1013.0):
                async with anyio.create_task_group() as tg:
                    results: list[int] = []

                    async def one(now: float = now, results: list[int] = results) -> None:
                        results.append(await deliver_due(world.db, client, now, guard=GUARD))

                    tg.start_soon(one)
                    tg.start_soon(one)
                got.extend(results)
            return got

    assert sum(anyio.run(run)) == 5
    assert receiver.calls == 5 and len(receiver.accepted) == 5
