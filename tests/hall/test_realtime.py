"""Websocket streams, resume by seq, audiences, and the hub's ordering and gap filling."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.websockets import WebSocketDisconnect

from hall.core.registry import HallRegistry
from hall.realtime.hub import Client, Hub, read_events

API = "/api/halls/tiny"


def test_public_stream_snapshot_then_live_without_personal_data(hall):
    hall.issue("A")
    with hall.client.websocket_connect("/ws/halls/tiny") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["seq"] == 1 and first["data"]["waiting"]["A"] == 1
        t = hall.issue("A", phone="13812345678")
        env = ws.receive_json()
        assert env["type"] == "ticket.issued" and env["seq"] == 2 and env["data"]["number"] == "A002"
        assert "progress_url" not in env["data"] and "channel" not in env["data"]
        hall.post(f"{API}/windows/1/call")
        called = ws.receive_json()
        assert called["type"] == "ticket.called" and called["seq"] == 3 and "reason" not in called["data"]
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
    assert t["progress_token"] not in json.dumps(first)


def test_staff_stream_carries_reason_and_progress_url(hall):
    with hall.client.websocket_connect(f"/ws/halls/tiny?since=0&token={hall.tokens['bridge']}") as ws:
        t = hall.issue("A")
        env = ws.receive_json()
        assert env["seq"] == 1 and env["data"]["progress_url"].endswith(t["progress_token"])
        hall.post(f"{API}/windows/1/call")
        assert ws.receive_json()["data"]["reason"]["rule"] in ("queue_key", "aging")


def test_resume_gets_missed_events_in_order(hall):
    for _ in range(3):
        hall.issue("A")
    hall.post(f"{API}/windows/2/call")
    with hall.client.websocket_connect("/ws/halls/tiny?since=1") as ws:
        got = [ws.receive_json() for _ in range(3)]
        assert [e["seq"] for e in got] == [2, 3, 4]
        assert got[-1]["type"] == "ticket.called"
        hall.issue("B")
        assert ws.receive_json()["seq"] == 5


def test_too_far_back_gets_a_snapshot(hall, monkeypatch):
    for _ in range(4):
        hall.issue("A")
    # a resume limit of 2 events: since=0 is 4 behind
    st = _state(hall)
    monkeypatch.setattr(st, "settings", st.settings.__class__(**{**_fields(st.settings), "resume_limit": 2}))
    with hall.client.websocket_connect("/ws/halls/tiny?since=0") as ws:
        snap = ws.receive_json()
        assert snap["type"] == "snapshot" and snap["seq"] == 4
    with hall.client.websocket_connect("/ws/halls/tiny?since=3") as ws:
        assert ws.receive_json()["seq"] == 4


def test_stream_refusals(hall):
    with pytest.raises(WebSocketDisconnect) as e:
        with hall.client.websocket_connect("/ws/halls/nowhere") as ws:
            ws.receive_json()
    assert e.value.code == 4404
    with pytest.raises(WebSocketDisconnect) as e:
        with hall.client.websocket_connect("/ws/halls/tiny?token=bogus") as ws:
            ws.receive_json()
    assert e.value.code == 4401


def _state(hall):
    return hall.client.app.state.hall


def _fields(settings):
    from dataclasses import fields

    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def _hub_case(hall, body):
    """Run `body(hub, info, envs)` in a fresh event loop with a hub of its own."""
    for _ in range(4):
        hall.issue("A")
    registry = HallRegistry(hall.db)
    registry.refresh()
    info = registry.get("tiny")
    envs = read_events(hall.db, info, 0)

    async def main():
        hub = Hub(hall.db, registry, poll_interval=3600, gap_grace=0.01)
        await hub.start()
        try:
            await body(hub, info, envs)
        finally:
            await hub.stop()

    asyncio.run(main())


def test_hub_orders_and_fills_gaps_from_the_table(hall):
    async def body(hub, info, envs):
        hub._streams["tiny"].last = 0  # as if it had seen nothing yet
        q: asyncio.Queue = asyncio.Queue(maxsize=100)
        hub.add(Client("tiny", "staff", q, lambda: None))
        hub.deliver(dict(envs[0]))
        hub.deliver(dict(envs[3]))  # 2 and 3 were lost on the bus
        hub.deliver(dict(envs[0]))  # a duplicate
        got = []
        for _ in range(4):
            seq, _text = await asyncio.wait_for(q.get(), 5)
            got.append(seq)
        assert got == [1, 2, 3, 4]
        assert q.empty()

    _hub_case(hall, body)


def test_hub_drops_a_client_that_falls_behind(hall):
    async def body(hub, info, envs):
        hub._streams["tiny"].last = 0
        dropped = []
        slow: asyncio.Queue = asyncio.Queue(maxsize=2)
        fast: asyncio.Queue = asyncio.Queue(maxsize=100)
        hub.add(Client("tiny", "public", slow, lambda: dropped.append("slow")))
        hub.add(Client("tiny", "public", fast, lambda: dropped.append("fast")))
        for env in envs:
            hub.deliver(dict(env))
        assert dropped == ["slow"] and fast.qsize() == 4 and slow.qsize() == 2

    _hub_case(hall, body)
