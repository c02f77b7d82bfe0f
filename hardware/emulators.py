"""Device emulators on a pseudo-terminal: LED boards, keypads, rating pads, printer, ID reader.

A `BusEmulator` is one serial line (one pty) with any mix of devices on it, the way an RS-485
chain carries many addressed devices. It runs a thread that reads what the host writes, feeds
every parser (each ignores the others' frames as noise), updates what each device shows and
records it with the time the last byte arrived. With `baud` set it drains the line no faster
than a real UART would (10 bits a byte), which the benchmark needs: a pty alone is instant.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hardware.escpos_decode import EscPosDecoder, PrintedTicket
from hardware.protocols import ff68
from hardware.protocols.ledframe import LedFrameParser
from hardware.protocols.modbus import ModbusParser, encode_write_register
from hardware.protocols.simple import SimpleNumberParser
from hardware.pty import PtyPort

__all__ = ["BusEmulator", "LedBoard", "Keypad", "Received"]


@dataclass(frozen=True, slots=True)
class Received:
    """One frame the host sent, as a device saw it. `at` is `time.monotonic()` when its last
    byte was on the line (paced when the bus has a baud rate)."""

    at: float
    kind: str  # led | keypad | printer
    address: int
    value: str  # text shown, digits shown, "beep", or the printed ticket's text
    raw: bytes = b""


@dataclass
class LedBoard:
    address: int
    protocol: str = "open"  # open | modbus | simple
    shown: str = ""


@dataclass
class Keypad:
    """A window's keypad; it shows digits or text and counts beeps."""

    address: int
    shown: str = ""
    beeps: int = 0
    history: list[str] = field(default_factory=list)


class BusEmulator:
    """Emulate the devices on one line. Use as a context manager or call `start`/`stop`."""

    def __init__(
        self,
        leds: Iterable[LedBoard] = (),
        keypads: Iterable[int] = (),
        printer: bool = False,
        link: str | None = None,
        baud: int | None = None,
        on_receive: Callable[[Received], None] | None = None,
    ) -> None:
        self.port = PtyPort(link)
        self.leds = {b.address: b for b in leds}
        self.keypads = {a: Keypad(a) for a in keypads}
        self.printer = EscPosDecoder() if printer else None
        self.paper_out = False
        self.silent: set[int] = set()  # Modbus units that stopped answering
        self.baud = baud
        self.received: list[Received] = []
        self.on_receive = on_receive
        self.raw_bytes = 0
        self._led_parser = LedFrameParser()
        self._modbus = ModbusParser({a for a, b in self.leds.items() if b.protocol == "modbus"})
        self._simple = SimpleNumberParser({a for a, b in self.leds.items() if b.protocol == "simple"})
        self._ff68 = ff68.FF68Parser()
        self._cond = threading.Condition()
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._line_free = 0.0

    @property
    def path(self) -> str:
        return self.port.path

    def __enter__(self) -> BusEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"emu-{self.path}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        if self._thread:
            self._thread.join(5)
        self.port.close()
        self.port.remove_link()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def unplug(self) -> None:
        """Close the pty, as when the adapter is pulled; `replug` creates a new one at the link."""
        with self._cond:
            self.port.close()

    def replug(self) -> None:
        with self._cond:
            self.port.open()

    # Device side: what a person does.

    def write(self, data: bytes) -> None:
        """Bytes a device sends to the host. Raises OSError when unplugged."""
        os.write(self.port.master, data)

    def press(self, address: int, key: int, digit: int | None = None, cmd: int = ff68.CMD_KEY) -> None:
        self.write(ff68.key_frame(address, key, cmd, digit))

    def rate(self, address: int, level: int, cmd: int = ff68.CMD_RATING) -> None:
        self.write(ff68.rating_frame(address, level, cmd))

    def swipe_id(self, number: str, line_end: bytes = b"\r\n") -> None:
        """An ID-card reader on this line sends the number and CR LF (some send no line end:
        `line_end=b""`)."""
        self.write(number.encode("ascii") + line_end)

    # Waiting for what the host sent.

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.received), timeout)

    def tickets(self) -> list[PrintedTicket]:
        return list(self.printer.tickets) if self.printer else []

    # The reader thread.

    def _run(self) -> None:
        quiet_since = time.monotonic()
        while True:
            master = self.port.master
            fds = [self._stop_r] + ([master] if master >= 0 else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                continue  # the pty was closed under us (unplug); the next loop sees the new one
            if self._stop_r in ready:
                return
            if master < 0 or master not in ready:
                if time.monotonic() - quiet_since > 0.05:
                    self._handle(b"", idle=True)
                    quiet_since = float("inf")
                continue
            try:
                data = os.read(master, 64 if self.baud else 4096)
            except OSError:
                time.sleep(0.05)  # the client closed the slave, or we were unplugged
                continue
            if self.baud:
                self._pace(len(data))
            quiet_since = time.monotonic()
            self._handle(data, idle=False)

    def _pace(self, n: int) -> None:
        now = time.monotonic()
        start = max(now, self._line_free)
        self._line_free = start + n * 10 / (self.baud or 1)
        delay = self._line_free - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _handle(self, data: bytes, idle: bool) -> None:
        now = time.monotonic()
        self.raw_bytes += len(data)
        got: list[Received] = []
        led = self._led_parser.idle() if idle else self._led_parser.feed(data)
        for f in led:
            board = self.leds.get(f.address)
            if board is not None and board.protocol == "open":
                board.shown = f.text
                got.append(Received(now, "led", f.address, f.text, f.raw))
        for w in self._modbus.idle() if idle else self._modbus.feed(data):
            self.leds[w.unit].shown = str(w.value)
            got.append(Received(now, "led", w.unit, str(w.value)))
            if w.unit not in self.silent:
                self._reply(encode_write_register(w.unit, w.value, w.register))  # Modbus echoes a write
        for n in self._simple.idle() if idle else self._simple.feed(data):
            self.leds[n.board].shown = str(n.value)
            got.append(Received(now, "led", n.board, str(n.value)))
        for fr in self._ff68.idle() if idle else self._ff68.feed(data):
            pad = self.keypads.get(fr.address)
            if pad is None:
                continue
            if fr.cmd == ff68.CMD_DIGITS:
                pad.shown = "".join(" " if d == ff68.BLANK else str(d) for d in fr.data).strip()
            elif fr.cmd == ff68.CMD_BEEP:
                pad.beeps += 1
                pad.history.append("beep")
                got.append(Received(now, "keypad", fr.address, "beep", fr.raw))
                continue
            elif fr.cmd == ff68.CMD_TEXT:
                pad.shown = fr.data.decode("gb2312", errors="replace")
            else:
                continue  # echoes (acks) of the keypad's own frames
            pad.history.append(pad.shown)
            got.append(Received(now, "keypad", fr.address, pad.shown, fr.raw))
        if self.printer is not None and data:
            before = len(self.printer.tickets)
            queries = self.printer.feed(data)
            for _ in range(queries):
                self._reply(b"\x72" if self.paper_out else b"\x12")
            for t in self.printer.tickets[before:]:
                got.append(Received(now, "printer", 0, t.text))
        if got:
            with self._cond:
                self.received.extend(got)
                self._cond.notify_all()
            if self.on_receive:
                for r in got:
                    self.on_receive(r)

    def _reply(self, data: bytes) -> None:
        try:
            os.write(self.port.master, data)
        except OSError:
            pass
