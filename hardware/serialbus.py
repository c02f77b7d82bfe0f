"""One serial line (RS-485 bus) owned by the bridge: one writer, a reader, and reopening.

Frames go out one at a time with a gap between them, because RS-485 devices need the line quiet
to see where a frame ends and to turn their transceivers around. A frame queued under a `key`
replaces an unsent frame with the same key: boards show state, so painting a call that has already
been replaced would only delay the current one. A port that disappears (USB adapter pulled, pty
closed, converter unreachable) is reopened every `reopen_every` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import count

import serial_asyncio_fast

from hardware.config import BusConfig
from hardware.registry import KeypadProtocol, KeyPress, RatingPress

__all__ = ["SerialBus"]

log = logging.getLogger(__name__)
_IDLE = 0.1  # seconds of silence after which a half-read frame is given up


class SerialBus:
    """Drive one port until `close`. Callbacks run on the event loop and must not block."""

    def __init__(
        self,
        config: BusConfig,
        keypad: KeypadProtocol | None = None,
        gap: float = 0.02,
        reopen_every: float = 3.0,
        on_event: Callable[[KeyPress | RatingPress], None] | None = None,
        on_open: Callable[[SerialBus], None] | None = None,
        on_state: Callable[[SerialBus], None] | None = None,
        on_raw: Callable[[bytes], None] | None = None,
        on_written: Callable[[Hashable, bytes], None] | None = None,
        on_quiet: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.port = config.port
        self.keypad = keypad
        self.gap = gap
        self.reopen_every = reopen_every
        self.on_event = on_event
        self.on_open = on_open
        self.on_state = on_state
        self.on_raw = on_raw
        self.on_written = on_written
        self.on_quiet = on_quiet  # the line went quiet: line devices without a line end finish here
        self.is_open = False
        self.last_error = ""
        self.frames_written = 0
        self.opens = 0
        self._pending: OrderedDict[Hashable, bytes] = OrderedDict()
        self._wake = asyncio.Event()
        self._unique = count()
        self._closing = False

    def send(self, data: bytes, key: Hashable | None = None) -> None:
        """Queue a frame. With `key`, replace any unsent frame queued under the same key (it
        keeps its place in line, so a busy bus cannot starve one board)."""
        if key is None:
            key = ("once", next(self._unique))
        self._pending[key] = data
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Open, serve, and reopen after failures until `close` is called or the task is cancelled."""
        while not self._closing:
            try:
                reader, writer = await serial_asyncio_fast.open_serial_connection(
                    url=self.port, baudrate=self.config.baud
                )
            except Exception as exc:  # noqa: BLE001 - any failure to open means "try again later"
                self._set_state(False, f"open failed: {exc}")
                await asyncio.sleep(self.reopen_every)
                continue
            self.opens += 1
            self._set_state(True, "")
            if self.on_open:
                self.on_open(self)
            tasks = [asyncio.create_task(self._read(reader)), asyncio.create_task(self._write(writer))]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    failure = t.exception()
                    if failure is not None:
                        self.last_error = f"{type(failure).__name__}: {failure}"
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                writer.close()
                try:
                    await writer.wait_closed()
                except Exception:  # noqa: BLE001 - the port is already gone
                    pass
            if self._closing:
                break
            self._set_state(False, self.last_error or "port closed")
            log.warning("bus %s lost (%s); reopening every %ss", self.port, self.last_error, self.reopen_every)
            await asyncio.sleep(self.reopen_every)
        self._set_state(False, "closed")

    def _set_state(self, is_open: bool, error: str) -> None:
        changed = is_open != self.is_open
        self.is_open = is_open
        if error:
            self.last_error = error
        if changed and self.on_state:
            self.on_state(self)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(1024), _IDLE)
            except TimeoutError:
                if self.keypad is not None:
                    self._dispatch(self.keypad.idle())
                if self.on_quiet is not None:
                    try:
                        self.on_quiet()
                    except Exception:  # a bug in one handler must not take the bus down
                        log.exception("quiet-line handler failed on %s", self.port)
                continue
            if not data:
                raise ConnectionError("end of stream")
            if self.on_raw:
                self.on_raw(data)
            if self.keypad is not None:
                self._dispatch(self.keypad.feed(data))

    def _dispatch(self, items: list[tuple[KeyPress | RatingPress | None, bytes | None]]) -> None:
        for event, ack in items:
            if ack:
                self.send(ack)
            if event is not None and self.on_event:
                try:
                    self.on_event(event)
                except Exception:  # a bug in one handler must not take the bus down
                    log.exception("device event handler failed for %r", event)

    async def _write(self, writer: asyncio.StreamWriter) -> None:
        while not self._closing:
            if not self._pending:
                self._wake.clear()
                if self._closing:  # close() may have set the event just before we cleared it
                    return
                await self._wake.wait()
                continue
            key, data = next(iter(self._pending.items()))
            writer.write(data)
            await writer.drain()
            # Only now forget it: a frame lost with the port is sent again after reopening.
            if self._pending.get(key) is data:
                del self._pending[key]
            self.frames_written += 1
            if self.on_written:
                self.on_written(key, data)
            # write() returns once the bytes are in the driver's buffer, long before they are on
            # the line: wait out their line time too, so the gap is real silence on the bus.
            await asyncio.sleep(len(data) * 10 / self.config.baud + self.gap)
