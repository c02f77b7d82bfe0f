"""Public waiting counts are coalesced (issue 14): a screen needs the final count, not every
increment. A burst of issues reaches a public screen as fewer frames that end on the right
count, in seq order and with no gap a client would reload for; staff clients (the bridge prints
every ticket) still get every event."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from hall.realtime.hub import WAITING_FRAME, Client, Hub

API = "/api/halls/tiny"


class _Sink:
    """A connection that takes every frame at once (hall.http.wsfanout.FrameWriter's shape)."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def write(self, frame: bytes) -> bool:
        # An unmasked server text frame: 2, 4 or 10 header bytes, then the JSON text.
        size = frame[1] & 0x7F
        start = 2 if size < 126 else 4 if size == 126 else 10
        self.frames.append(json.loads(frame[start:]))
        return True

    def buffered(self) -> int:
        return 0


def _issued(seq: int, category: str, waiting: int) -> dict[str, Any]:
    return {"seq": seq, "type": "ticket.issued", "at": f"2026-12-01T09:00:{seq % 60:02d}.000+08:00", "hall": "tiny",
            "data": {"id": seq, "number": f"{category}{seq:03d}", "category": category, "zone": "z",
                     "queue_class": "normal", "waiting": waiting, "progress_url": f"/t/secret{seq}"}}


def _client(audience: str, sink: _Sink) -> Client:
    c = Client("tiny", audience, asyncio.Queue(maxsize=10), lambda: None)
    c.go_direct(sink, 1 << 20, 0)
    return c


def _apply(waiting: dict[str, int], last: int, frame: dict[str, Any]) -> int:
    """live.js and reducer.js on the waiting counts: a gap (by `from` when given) is a failure."""
    first = frame.get("from", frame["seq"])
    assert first == last + 1, f"gap before {frame}"
    if frame["type"] == WAITING_FRAME:
        waiting.update(frame["data"]["waiting"])
    elif frame["type"] == "ticket.issued":
        waiting[frame["data"]["category"]] = frame["data"]["waiting"]
    elif frame["type"] == "ticket.called":
        waiting[frame["data"]["category"]] -= 1
    return int(frame["seq"])


def test_a_burst_of_50_issues_reaches_a_screen_as_few_frames_ending_on_the_count() -> None:
    async def main() -> tuple[_Sink, _Sink]:
        hub = Hub(cast(Any, None), cast(Any, None), coalesce=0.05)
        hub._stream("tiny").last = 0
        screen, bridge = _Sink(), _Sink()
        hub.add(_client("public", screen))
        hub.add(_client("staff", bridge))
        counts = {"A": 0, "B": 0}
        for seq in range(1, 51):
            category = "A" if seq % 3 else "B"
            counts[category] += 1
            hub.deliver(_issued(seq, category, counts[category]))
            if seq % 10 == 0:
                await asyncio.sleep(0.02)  # the burst spans several windows
        await asyncio.sleep(0.2)  # the last window closes by its timer, with no later event
        return screen, bridge

    screen, bridge = asyncio.run(main())
    assert [f["seq"] for f in bridge.frames] == list(range(1, 51))  # staff: every event, at once
    assert 2 <= len(screen.frames) < 50
    waiting: dict[str, int] = {}
    last = 0
    for frame in screen.frames:
        last = _apply(waiting, last, frame)
        assert "progress_url" not in json.dumps(frame)  # still the public audience's data
    assert last == 50 and waiting == {"A": 34, "B": 16}
    assert screen.frames[0]["type"] == "ticket.issued"  # the first after a quiet spell: at once
    assert any(f["type"] == WAITING_FRAME and f["from"] < f["seq"] for f in screen.frames)


def test_a_call_sends_the_held_counts_first_and_a_lone_held_issue_goes_as_it_is() -> None:
    async def main() -> list[dict[str, Any]]:
        hub = Hub(cast(Any, None), cast(Any, None), coalesce=10.0)  # only events release the hold
        hub._stream("tiny").last = 0
        screen = _Sink()
        hub.add(_client("public", screen))
        for seq in (1, 2, 3):
            hub.deliver(_issued(seq, "A", seq))
        call = {"seq": 4, "type": "ticket.called", "at": "2026-12-01T09:00:04.000+08:00", "hall": "tiny",
                "data": {"id": 1, "number": "A001", "category": "A", "zone": "z", "window": 1, "reason": {}}}
        hub.deliver(call)
        hub.deliver(_issued(5, "A", 3))  # held: the window since seq 1's count is still open
        hub.broadcast_control({"type": "hall.resync"}, "tiny")
        await hub.stop()
        return screen.frames

    frames = asyncio.run(main())
    assert [(f["type"], f.get("seq"), f.get("from")) for f in frames] == [
        ("ticket.issued", 1, None), (WAITING_FRAME, 3, 2), ("ticket.called", 4, None), ("ticket.issued", 5, None),
        ("hall.resync", None, None),
    ]
    assert frames[1]["data"] == {"waiting": {"A": 3}}
    assert "reason" not in frames[2]["data"]


def test_with_coalescing_off_every_issue_is_its_own_frame() -> None:
    async def main() -> list[dict[str, Any]]:
        hub = Hub(cast(Any, None), cast(Any, None), coalesce=0.0)
        hub._stream("tiny").last = 0
        screen = _Sink()
        hub.add(_client("public", screen))
        for seq in range(1, 6):
            hub.deliver(_issued(seq, "A", seq))
        return screen.frames

    assert [f["type"] for f in asyncio.run(main())] == ["ticket.issued"] * 5


def test_issues_through_the_server_end_on_the_snapshot_count_on_a_public_stream(hall) -> None:
    with hall.client.websocket_connect("/ws/halls/tiny") as ws:
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        for i in range(20):
            hall.issue("B" if i in (3, 11) else "A", who="staff")
        want = hall.client.get(f"{API}/snapshot", headers=hall.headers("screen")).json()
        waiting = dict(snap["data"]["waiting"])
        last, frames = snap["seq"], 0
        while last < want["seq"]:
            last = _apply(waiting, last, ws.receive_json())
            frames += 1
    assert waiting == want["waiting"] and last == 20
    assert 1 <= frames <= 20
