"""Issue 12 item 8: webhooks reach only public addresses unless the hall's layout allow-lists
the host — at registration, before every post (a real loopback receiver gets nothing), and never
through a redirect."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import anyio
import httpx
import pytest
from sqlalchemy import select, update

from hall.operations.webhooks.store import add_endpoint, deliver_due, enqueue
from hall.operations.webhooks.targets import TargetGuard, UnsafeTarget, refused_address
from hall.store.models import Hall
from hall.store.operation_models import WebhookAttempt, WebhookDelivery
from tests.operations.conftest import App, World

H = "/api/halls/township"
SECRET = "a-very-secret-key-0123"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.7", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00:ec2::254", "fc00::5", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "192.0.2.1", "240.0.0.1",
])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refused_address(address) is not None
    with pytest.raises(UnsafeTarget):
        TargetGuard().check(f"http://[{address}]/hook" if ":" in address else f"http://{address}/hook")


def test_names_are_resolved_and_every_address_must_be_public() -> None:
    def resolve(host: str, port: int) -> list[str]:
        known = {"public.test": ["93.184.215.14"], "rebind.test": ["93.184.215.14", "127.0.0.1"]}
        if host not in known:
            raise OSError("Name or service not known")
        return known[host]

    guard = TargetGuard(resolve=resolve)
    guard.check("https://public.test/hook")
    assert refused_address("93.184.215.14") is None and refused_address("2606:4700::1111") is None
    with pytest.raises(UnsafeTarget, match="loopback"):
        guard.check("http://rebind.test/hook")
    with pytest.raises(UnsafeTarget):
        guard.check("http://unknown.test/hook")  # does not resolve: nothing to check, refused
    with pytest.raises(UnsafeTarget):
        guard.check("ftp://public.test/hook")
    TargetGuard(frozenset({"rebind.test"}), resolve).check("http://rebind.test/hook")  # allow-listed


def test_registering_a_private_target_is_refused(app: App) -> None:
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://10.1.2.3/hook",
                "http://169.254.169.254/latest/", "http://[::1]:9/hook", "http://100.64.1.1/hook",
                "http://[::ffff:7f00:1]/hook"):
        r = app.post(f"{H}/ops/webhooks", "boss", {"url": url, "secret": "s" * 20})
        assert r.status_code == 422 and r.json()["error"] == "unsafe_webhook_target", (url, r.text)
    assert app.get(f"{H}/ops/webhooks", "boss").json()["webhooks"] == []


@pytest.fixture
def loopback_receiver() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    finally:
        server.shutdown()
        server.server_close()


def _deliver(world: World, rounds: int = 3, start: float = 1010.0) -> int:
    async def run() -> int:
        async with httpx.AsyncClient(timeout=5.0) as client:
            total, now = 0, start
            for _ in range(rounds):
                total += await deliver_due(world.db, client, now)
                now += 60.0
            return total

    return anyio.run(run)


def test_an_endpoint_on_loopback_is_never_posted_to(world: World, loopback_receiver: tuple[str, list[str]]) -> None:
    url, seen = loopback_receiver
    with world.db.write() as conn:  # stored before this check existed, or written to the table by hand
        add_endpoint(conn, world.hall_id, url, SECRET, now=1000.0)
    world.ticket("A", 1000.0)
    with world.db.write() as conn:
        assert enqueue(conn, 1001.0) == 1
    assert _deliver(world) == 0
    assert seen == []
    with world.db.read() as conn:
        errors = conn.execute(select(WebhookAttempt.error)).scalars().all()
        status = conn.execute(select(WebhookDelivery.status)).scalar_one()
    assert errors and all("loopback" in e for e in errors) and status == "pending"
    # the hall's layout (an admin's file) allow-lists the host: now it is delivered
    with world.db.write() as conn:
        layout = dict(conn.execute(select(Hall.layout).where(Hall.id == world.hall_id)).scalar_one())
        layout["server"] = {**dict(layout.get("server") or {}), "webhook_allow_hosts": ["127.0.0.1"]}
        conn.execute(update(Hall).where(Hall.id == world.hall_id).values(layout=layout))
    assert _deliver(world, start=100_000.0) == 1 and seen == ["/hook"]


def test_a_redirect_is_not_followed(world: World) -> None:
    requests: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://127.0.0.1:9/internal"})

    guard = TargetGuard(resolve=lambda host, port: ["93.184.215.14"])
    with world.db.write() as conn:
        add_endpoint(conn, world.hall_id, "http://public.test/hook", SECRET, now=1000.0)
    world.ticket("A", 1000.0)
    with world.db.write() as conn:
        enqueue(conn, 1001.0)

    async def run() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
            return await deliver_due(world.db, client, 1002.0, guard=guard)

    assert anyio.run(run) == 0
    assert requests == ["http://public.test/hook"]
