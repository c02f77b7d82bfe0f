"""The websocket hub: one per process; puts each hall's events, in seq order and without gaps,
into every subscribed client's bounded queue.

- Events arrive from the bus (hall.realtime.bus) in any order, maybe with gaps. Per hall the hub keeps the
  last seq it passed on; a later event waits in a small buffer while the gap is filled from the
  events table (after a short grace period, since the missing one is usually in flight).
- A poller reads `hall_counters` every `poll_interval` seconds: a lost publish (or a write by
  another process on an in-process bus, like `hall close-day`) is caught up from the table.
- Each event is encoded once per audience (JSON text, and a websocket frame when some client
  takes frames). A client whose server offers a frame sink (hall.http.wsfanout) gets the frame
  written straight to its connection, with no task, queue or awaited send per client per event;
  when more than its `limit` bytes wait unsent there, it is disconnected (it resumes with
  `since`), so a slow screen never slows the others. Other clients have a bounded queue, drained
  by their own sender, and are disconnected when it is full.
- Two audiences: "public" (no personal data, hall.core.events.public_data) and "staff".
- Public waiting counts are coalesced (`coalesce` seconds, HALL_WS_COALESCE_MS): a screen needs
  the count, not every increment. The first `ticket.issued` after a quiet spell goes out at once;
  issues that follow within the window are held and leave as ONE `hall.waiting` frame
  `{seq: last held, from: first held, data: {waiting: {category: count}}}` when the window ends,
  or just before any other event (so public clients still see the hall's changes in seq order).
  Staff clients (the bridge prints every ticket) get every event at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from sqlalchemy import select
from websockets.frames import Frame, Opcode

from hall.core.events import EventType, envelope, public_data
from hall.core.registry import HallInfo, HallRegistry
from hall.store.database import Database
from hall.store.models import EventRow, HallCounter

__all__ = ["Hub", "Client", "FrameSink", "read_events", "text_frame", "WAITING_FRAME"]

log = logging.getLogger("hall.realtime.hub")

# The public frame that stands for a run of `ticket.issued` events (docs/REDUCER.md).
WAITING_FRAME = "hall.waiting"


def read_events(db: Database, hall: HallInfo, after: int, upto: int | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """Stored staff-audience envelopes of a hall with seq > after (≤ upto), in order. Blocking."""
    q = select(EventRow.seq, EventRow.type, EventRow.at, EventRow.data).where(
        EventRow.hall_id == hall.id, EventRow.seq > after
    )
    if upto is not None:
        q = q.where(EventRow.seq <= upto)
    with db.read() as conn:
        rows = conn.execute(q.order_by(EventRow.seq).limit(limit)).all()
    return [envelope(r.seq, r.type, r.at, hall.code, r.data, hall.tz) for r in rows]


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed websocket text frame (a server's frames are never masked)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class FrameSink(Protocol):
    """Writes whole websocket frames to one connection now (hall.http.wsfanout.FrameWriter)."""

    def write(self, frame: bytes) -> bool: ...

    def buffered(self) -> int: ...


# What a direct client's `queue` becomes: never put to (its frames go to the sink), never awaited.
_NO_QUEUE: asyncio.Queue[tuple[int | None, str]] = asyncio.Queue(maxsize=1)


@dataclass(eq=False, slots=True)
class Client:
    """One websocket subscriber: `queue` holds (seq or None, text) to send until `go_direct`."""

    hall: str
    audience: str  # "public" | "staff"
    queue: asyncio.Queue[tuple[int | None, str]]
    on_overflow: Callable[[], None]
    dropped: bool = False
    sink: FrameSink | None = None
    limit: int = 0  # bytes left unsent in the sink before the client is dropped
    last: int = -1  # on the direct path: the last seq written (a held frame may trail a catch-up)

    def offer(self, seq: int | None, text: str, frame: bytes | None = None) -> None:
        if self.dropped:
            return
        sink = self.sink
        if sink is not None:
            if seq is not None:
                if seq <= self.last:
                    return
                self.last = seq
            if sink.buffered() > self.limit:
                self._drop()
            else:
                sink.write(frame if frame is not None else text_frame(text))
            return
        try:
            self.queue.put_nowait((seq, text))
        except asyncio.QueueFull:
            self._drop()

    def go_direct(self, sink: FrameSink, limit: int, last: int) -> None:
        """From now on write to `sink`; first what queued up after seq `last` (the catch-up's end)."""
        while not self.queue.empty():
            seq, text = self.queue.get_nowait()
            if seq is None or seq > last:
                sink.write(text_frame(text))
                last = max(last, seq or last)
        self.sink, self.limit, self.last = sink, limit, last
        self.queue = _NO_QUEUE  # an idle screen holds no queue of its own (~1 KB each)

    def _drop(self) -> None:
        self.dropped = True
        self.on_overflow()


@dataclass
class _Held:
    """Public `ticket.issued` events held back for one `hall.waiting` frame."""

    first: dict[str, Any]  # the first held envelope (sent as it is when it stays alone)
    last: dict[str, Any]
    waiting: dict[str, int]  # category -> its count after the last held issue
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Stream:
    last: int
    clients: set[Client] = field(default_factory=set)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    filling: bool = False
    publics: int = 0  # how many of `clients` are public
    public_at: float = float("-inf")  # loop time of the last issued count sent to the public
    held: _Held | None = None


class Hub:
    """Fan-out of hall events to websocket clients (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        registry: HallRegistry,
        *,
        poll_interval: float = 1.0,
        gap_grace: float = 0.05,
        on_lag: Callable[[float], None] | None = None,
        on_clients: Callable[[int], None] | None = None,
        coalesce: float = 0.0,
    ) -> None:
        self.db = db
        self.registry = registry
        self.poll_interval = poll_interval
        self.gap_grace = gap_grace
        self.on_lag = on_lag
        self.on_clients = on_clients
        self.coalesce = coalesce  # seconds; 0: every public ticket.issued is sent on its own
        self._streams: dict[str, _Stream] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.client_count = 0

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._load_counters)
        self._poller = asyncio.create_task(self._poll(), name="hall-hub-poller")

    async def stop(self) -> None:
        """Stop polling and let running table reads finish.

        Nothing is cancelled while it waits on a worker thread: a cancelled await abandons its
        thread, which would hand its connection back after the engine was disposed.
        """
        self._stop.set()
        for s in self._streams.values():
            if s.held is not None and s.held.timer is not None:
                s.held.timer.cancel()
        tasks = [t for t in (self._poller, *self._tasks) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    def last_seq(self, hall: str) -> int | None:
        s = self._streams.get(hall)
        return s.last if s else None

    # --- clients -----------------------------------------------------------------------------

    def add(self, client: Client) -> None:
        s = self._stream(client.hall)
        s.clients.add(client)
        s.publics += client.audience == "public"
        self.client_count += 1
        if self.on_clients:
            self.on_clients(self.client_count)

    def remove(self, client: Client) -> None:
        s = self._streams.get(client.hall)
        if s is not None and client in s.clients:
            s.clients.discard(client)
            s.publics -= client.audience == "public"
            self.client_count -= 1
            if self.on_clients:
                self.on_clients(self.client_count)

    def broadcast_control(self, message: dict[str, Any], hall: str | None = None) -> None:
        """A message outside the seq order (hall.resync) to every client (of one hall)."""
        text = json.dumps(message, ensure_ascii=False)
        frame = text_frame(text)
        for code, s in self._streams.items():
            if hall is None or code == hall:
                self._release(code, s)
                for c in list(s.clients):
                    c.offer(None, text, frame)

    # --- events ------------------------------------------------------------------------------

    def deliver(self, env: dict[str, Any]) -> None:
        """Take an envelope from the bus (any order, duplicates allowed)."""
        hall = env.get("hall")
        seq = env.get("seq")
        if not isinstance(hall, str) or not isinstance(seq, int):
            return
        t = env.pop("t", None)
        if self.on_lag is not None and isinstance(t, int | float):
            self.on_lag(max(0.0, time.time() - t))
        s = self._streams.get(hall)
        if s is None:
            # A hall this process has not seen yet: learn its position from the table first.
            s = self._stream(hall)
            s.pending[seq] = env
            self._spawn(self._fill(hall, grace=0.0))
            return
        if seq <= s.last:
            return
        if seq == s.last + 1:
            self._dispatch(hall, s, env)
            self._drain(hall, s)
        else:
            s.pending[seq] = env
            if not s.filling:
                self._spawn(self._fill(hall, grace=self.gap_grace))

    async def catch_up(self, resync: bool = False) -> None:
        """Fill every hall from the table (after a bus outage); then maybe tell clients to resync."""
        await anyio.to_thread.run_sync(self._load_counters)
        for hall in list(self._streams):
            await self._fill(hall, grace=0.0)
        if resync:
            self.broadcast_control({"type": "hall.resync"})

    # --- internals ---------------------------------------------------------------------------

    def _stream(self, hall: str) -> _Stream:
        s = self._streams.get(hall)
        if s is None:
            s = self._streams[hall] = _Stream(last=-1)
        return s

    def _dispatch(self, hall: str, s: _Stream, env: dict[str, Any]) -> None:
        s.last = env["seq"]
        if not s.clients:
            _cancel(s.held)
            s.held = None
            return
        if self.coalesce > 0 and s.publics and _is_count(env):
            self._send(s, env, "staff")
            self._hold(hall, s, env)
            return
        self._release(hall, s)  # held counts first: the public sees every change in seq order
        self._send(s, env, None)

    def _send(self, s: _Stream, env: dict[str, Any], only: str | None) -> None:
        """`env` to every client (of audience `only`), encoded once per audience, not per client."""
        seq = env["seq"]
        texts: dict[str, str] = {}
        frames: dict[str, bytes] = {}
        for c in list(s.clients):
            a = c.audience
            if only is not None and a != only:
                continue
            text = texts.get(a)
            if text is None:
                body = env if a == "staff" else env | {"data": public_data(env["type"], env["data"])}
                text = texts[a] = json.dumps(body, ensure_ascii=False)
            if c.sink is None:
                c.offer(seq, text)
                continue
            frame = frames.get(a)
            if frame is None:
                frame = frames[a] = text_frame(text)
            c.offer(seq, text, frame)

    # --- coalesced public waiting counts (see the module docstring) --------------------------

    def _hold(self, hall: str, s: _Stream, env: dict[str, Any]) -> None:
        data = env["data"]
        h = s.held
        if h is not None:
            h.last = env
            h.waiting[data["category"]] = data["waiting"]
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now - s.public_at >= self.coalesce:
            s.public_at = now  # the first after a quiet spell: at once, as it is
            self._send(s, env, "public")
            return
        h = s.held = _Held(env, env, {data["category"]: data["waiting"]})
        h.timer = loop.call_at(s.public_at + self.coalesce, self._release, hall, s)

    def _release(self, hall: str, s: _Stream) -> None:
        """Send what is held to the public: the lone event itself, or one `hall.waiting` frame."""
        h = s.held
        if h is None:
            return
        _cancel(h)
        s.held = None
        s.public_at = asyncio.get_running_loop().time()
        if h.first is h.last:
            self._send(s, h.first, "public")
            return
        last = h.last
        frame = {"seq": last["seq"], "from": h.first["seq"], "type": WAITING_FRAME, "at": last["at"], "hall": hall,
                 "data": {"waiting": h.waiting}}
        self._send(s, frame, "public")

    def _drain(self, hall: str, s: _Stream) -> None:
        while s.pending:
            nxt = s.pending.pop(s.last + 1, None)
            if nxt is None:
                for k in [k for k in s.pending if k <= s.last]:
                    del s.pending[k]
                return
            self._dispatch(hall, s, nxt)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, hall: str, grace: float) -> None:
        s = self._stream(hall)
        if s.filling:
            return
        s.filling = True
        try:
            if grace:
                await asyncio.sleep(grace)
            info = self.registry.cached(hall)
            if info is None:
                info = await anyio.to_thread.run_sync(self._get_hall, hall)
                if info is None:
                    s.pending.clear()
                    return
            if s.last < 0:
                # First sight of this hall: start after what the table held before the pending ones.
                first = min(s.pending) if s.pending else None
                s.last = (first - 1) if first is not None else await anyio.to_thread.run_sync(self._counter, info)
                self._drain(hall, s)
            while s.pending and min(s.pending) > s.last + 1:
                upto = min(s.pending) - 1
                events = await anyio.to_thread.run_sync(read_events, self.db, info, s.last, upto)
                if not events:
                    break
                for env in events:
                    if env["seq"] == s.last + 1:
                        self._dispatch(hall, s, env)
                self._drain(hall, s)
        except Exception:  # noqa: BLE001 - the poller will try again
            log.exception("gap fill for hall %s failed", hall)
        finally:
            s.filling = False

    async def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.poll_interval)
                return
            except TimeoutError:
                pass
            try:
                counters = await anyio.to_thread.run_sync(self._read_counters)
                for code, seq in counters.items():
                    s = self._streams.get(code)
                    if s is None:
                        self._streams[code] = _Stream(last=seq)
                        continue
                    if seq > s.last and not s.filling:
                        await self._catch_hall(code, seq)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep polling through database hiccups
                log.exception("event poller failed")

    async def _catch_hall(self, code: str, upto: int) -> None:
        s = self._streams[code]
        info = self.registry.cached(code)
        if info is None:
            return
        s.filling = True
        try:
            events = await anyio.to_thread.run_sync(read_events, self.db, info, s.last, upto)
            for env in events:
                if env["seq"] == s.last + 1:
                    self._dispatch(code, s, env)
            self._drain(code, s)
        finally:
            s.filling = False

    def _get_hall(self, code: str) -> HallInfo | None:
        try:
            return self.registry.get(code)
        except Exception:  # noqa: BLE001 - unknown hall
            return None

    def _counter(self, info: HallInfo) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == info.id)).scalar() or 0)

    def _read_counters(self) -> dict[str, int]:
        self.registry.refresh()
        with self.db.read() as conn:
            rows = conn.execute(select(HallCounter.hall_id, HallCounter.seq)).all()
        out = {}
        for hall_id, seq in rows:
            info = self.registry.by_id(hall_id)
            if info is not None:
                out[info.code] = int(seq)
        return out

    def _load_counters(self) -> None:
        for code, seq in self._read_counters().items():
            s = self._streams.get(code)
            if s is None:
                self._streams[code] = _Stream(last=seq)


def _is_count(env: dict[str, Any]) -> bool:
    """Whether `env` is an issue with its category's count: all a public screen shows of it
    (its number and id, which a coalesced run drops, are the kiosk's and the bridge's)."""
    data = env.get("data")
    return (
        env.get("type") == EventType.TICKET_ISSUED and isinstance(data, dict)
        and isinstance(data.get("category"), str) and isinstance(data.get("waiting"), int)
    )


def _cancel(held: _Held | None) -> None:
    if held is not None and held.timer is not None:
        held.timer.cancel()
        held.timer = None
