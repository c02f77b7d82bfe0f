"""The bridge: serial devices on one side, the hall server's websocket and HTTP API on the other.

Never imports the server: everything goes over the protocol in docs/CONTRACTS.md, so the bridge
runs on the PC the RS-485 buses hang from. One `Bridge` per hall.

- Server -> devices: the device stream (`/ws/halls/{hall}?token=…`) starts with a snapshot after
  every (re)connect, which repaints every board; events then change single windows.
- Devices -> server: keypad actions and ratings go through the durable outbox (`outbox.py`) with
  an Idempotency-Key each. "Call next" while the server is unreachable is refused at once on the
  keypad (beep + 网络中断) and never queued; one that cannot be delivered within `call_ttl`
  expires the same way, because calling someone minutes later would call a person who left.
- A pad press is bound at the moment of the press to the ticket its window last finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import httpx
import websockets

from displays.led import call_text, closed_text, idle_text, layout_strip, paused_text
from hardware.config import BridgeConfig, BusConfig, LedConfig, PrinterConfig
from hardware.hallstate import HallState
from hardware.health import DeviceHealth
from hardware.idcardhub import IdCardHub
from hardware.outbox import Outbox, OutboxEntry
from hardware.outputs import play_calls, print_issued
from hardware.printing import PAPER_STATUS_QUERY
from hardware.protocols.idcard import IdCardParser
from hardware.registry import (
    BoardProtocol,
    KeypadProtocol,
    KeyPress,
    RatingPress,
    board_protocol,
    keypad_protocol,
)
from hardware.serialbus import SerialBus
from hardware.uplink import OutboxSender

__all__ = ["Bridge", "NETWORK_DOWN_TEXT"]

log = logging.getLogger(__name__)
NETWORK_DOWN_TEXT = "网络中断"
_WINDOW_ACTIONS = {a: a for a in ("call", "recall", "no-show", "start", "finish")}
# What a keypad shows when the server refuses an action (short: keypads have few characters).
_REFUSAL_TEXT = {"window_busy": "请先开始办理", "window_paused": "暂停服务中", "no_current": "无当前号"}
NO_ONE_WAITING_TEXT = "无人等候"
_NOTICE_SECONDS = 3.0


class Bridge:
    """Run with `await bridge.run()`; `stop()` ends it. `http` may be injected for tests."""

    def __init__(self, config: BridgeConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.state = HallState()
        self.connected = False
        self.outbox = Outbox(config.outbox)
        self._http = http
        self._sender = OutboxSender(self.outbox, lambda: self.http, self._entry_failed_for_good, self._answered)
        self._stop = asyncio.Event()
        self._audio: asyncio.Queue[Any] = asyncio.Queue(maxsize=20)
        self._heartbeat_now = asyncio.Event()
        self.buses: list[SerialBus] = []
        self.idcards: IdCardHub | None = None
        self.health = DeviceHealth()
        self.answers = self.health.answers
        # window -> boards / keypads on it; (bus index, address) -> window for input.
        self._leds: dict[str, list[tuple[SerialBus, LedConfig, BoardProtocol]]] = {}
        self._keypads: dict[str, list[tuple[SerialBus, int, KeypadProtocol]]] = {}
        self._input_window: dict[tuple[int, str, int], str] = {}
        self._pages: dict[tuple[int, int], tuple[list[str], int, str | None]] = {}
        self._printers: dict[str, tuple[PrinterConfig, SerialBus | None]] = {}
        self.printed = 0
        self._notice_until: dict[tuple[int, int], float] = {}
        self._next_page = 0.0
        for p in config.printers:
            self._printers[p.kiosk] = (p, None)
        for index, bus_cfg in enumerate(config.buses):
            self._add_bus(index, bus_cfg)

    # ----------------------------------------------------------------- set-up

    def _add_bus(self, index: int, cfg: BusConfig) -> None:
        keypad = keypad_protocol(cfg.keypad_protocol, **cfg.keypad_options) if (cfg.keypads or cfg.pads) else None
        printer_only = bool(cfg.printers) and not (cfg.keypads or cfg.pads)
        raw_handlers: list[Callable[[bytes], None]] = []
        if printer_only:
            raw_handlers.append(self.health.paper_reader(index))
        quiet_handlers: list[Callable[[], None]] = []
        if cfg.idcard_kiosk:
            feed, quiet = self._idcard_reader(cfg.idcard_kiosk)
            raw_handlers.append(feed)
            quiet_handlers.append(quiet)
        echoing = {led.address for led in cfg.leds if led.protocol == "modbus"}
        if echoing:
            raw_handlers.append(self.health.echo_reader(index, echoing))
        bus = SerialBus(
            cfg,
            keypad=keypad,
            gap=self.config.frame_gap,
            reopen_every=self.config.reopen_every,
            on_event=partial(self._device_event, index),
            on_open=self._repaint_bus,
            on_state=lambda _bus: self._heartbeat_now.set(),
            on_raw=_fan_out(raw_handlers) if raw_handlers else None,
            on_written=partial(_wrote, self.health, index, echoing) if echoing else None,
            on_quiet=_call_all(quiet_handlers) if quiet_handlers else None,
        )
        self.buses.append(bus)
        for led in cfg.leds:
            proto = board_protocol(led.protocol, **led.options)
            self._leds.setdefault(led.window, []).append((bus, led, proto))
        for kp in cfg.keypads:
            assert keypad is not None
            self._keypads.setdefault(kp.window, []).append((bus, kp.address, keypad))
            self._input_window[(index, "key", kp.address)] = kp.window
        for pad in cfg.pads:
            self._input_window[(index, "pad", pad.address)] = pad.window
        for p in cfg.printers:
            self._printers[p.kiosk] = (p, bus)

    def _idcard_reader(self, kiosk: str) -> tuple[Callable[[bytes], None], Callable[[], None]]:
        """The reader's byte handler and its quiet-line handler (a reader that sends no line end
        still delivers: the quiet line ends its number)."""
        parser = IdCardParser()
        if self.idcards is None:
            self.idcards = IdCardHub(self.config.idcard_listen)
        hub = self.idcards

        def feed(data: bytes) -> None:
            for number in parser.feed(data):
                hub.publish(kiosk, number)

        def quiet() -> None:
            for number in parser.idle():
                hub.publish(kiosk, number)

        return feed, quiet

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.config.server,
                headers={"Authorization": f"Bearer {self.config.token}"},
                timeout=5.0,
            )
        return self._http

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Serve until `stop()`; cancelling the task works too."""
        tasks = [asyncio.create_task(bus.run(), name=f"bus {bus.port}") for bus in self.buses]
        tasks += [
            asyncio.create_task(self._ws_loop(), name="websocket"),
            asyncio.create_task(self._sender.run(), name="outbox"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._page_loop(), name="pages"),
            asyncio.create_task(self._audio_loop(), name="audio"),
        ]
        if self.idcards is not None:
            tasks.append(asyncio.create_task(self.idcards.run(), name="idcards"))
        try:
            await self._stop.wait()
        finally:
            for bus in self.buses:
                bus.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._http is not None:
                await self._http.aclose()
            self.outbox.close()

    # ------------------------------------------------------- server -> devices

    def _backoff(self) -> Generator[float, None, None]:
        delay = 0.2
        while True:
            yield delay
            delay = min(delay * 2, self.config.backoff_max)

    async def _ws_loop(self) -> None:
        while True:
            try:
                async for ws in websockets.connect(
                    self.config.ws_url,
                    open_timeout=5,
                    ping_interval=5,
                    ping_timeout=5,
                    reconnect_delays=self._backoff,
                ):
                    try:
                        async for message in ws:
                            if isinstance(message, bytes):
                                # The server sends text; bad bytes become U+FFFD, never a stuck stream.
                                message = message.decode("utf-8", errors="replace")
                            try:
                                parsed = json.loads(message)
                                if not isinstance(parsed, dict):
                                    raise ValueError("not a JSON object")
                            except ValueError as exc:
                                # Untrusted input: a bad message is dropped, the stream kept.
                                log.warning("bad message from the server dropped: %s", exc)
                                continue
                            try:
                                await self._on_message(parsed)
                            except (KeyError, TypeError, ValueError, AttributeError):
                                log.exception("message from the server not understood: %.200s", message)
                    except websockets.ConnectionClosed:
                        pass
                    finally:
                        self._set_connected(False)
            except Exception as exc:  # fatal answers (bad token, 4xx): log and keep trying slowly
                self._set_connected(False)
                log.error("websocket to %s failed: %s", self.config.server, exc)
                await asyncio.sleep(self.config.backoff_max)

    def _set_connected(self, up: bool) -> None:
        if up != self.connected:
            log.info("server %s", "connected" if up else "unreachable")
        self.connected = up
        if up:
            self._sender.wake.set()

    async def _on_message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "snapshot":
            self.state.load_snapshot(int(msg.get("seq", 0)), msg.get("data") or {})
            self._repaint_all()
            self._set_connected(True)
            return
        if kind == "hall.resync":
            await self._resync()
            return
        if kind in (None, "pong"):
            return
        if not self.connected:
            # Missed events were replayed before any snapshot: our state is from before the
            # drop, so take a fresh snapshot rather than trust it.
            await self._resync()
            self._set_connected(True)
            return
        window, gap = self.state.apply(msg)
        if gap:
            await self._resync()
            return
        if window is not None:
            self._paint_window(window)
            if kind == "ticket.called" and self.config.audio_player:
                with contextlib.suppress(asyncio.QueueFull):
                    self._audio.put_nowait(msg["data"].get("id"))
        if kind == "ticket.issued":
            await self._maybe_print(msg)

    async def _resync(self) -> None:
        try:
            r = await self.http.get(f"/api/halls/{self.config.hall}/snapshot")
            r.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("snapshot fetch failed: %s", exc)
            return
        snap = r.json()
        self.state.load_snapshot(int(snap.get("seq", 0)), snap)
        self._repaint_all()

    def _window_text(self, window: str) -> tuple[str, str | None]:
        view = self.state.windows.get(window)
        if view is not None and view.state == "closed":
            return closed_text(self.config.hall_settings), None  # not 欢迎光临 over a window nobody staffs
        if view is None or view.state == "idle" or (view.state != "paused" and not view.current_number):
            return idle_text(self.config.hall_settings), None
        if view.state == "paused":
            return paused_text(self.config.hall_settings), None
        assert view.current_number is not None
        return call_text(view.current_number, window), view.current_number

    def _paint_window(self, window: str) -> None:
        text, number = self._window_text(window)
        for bus, led, proto in self._leds.get(window, ()):
            try:
                pages = layout_strip(text, led.width)
            except ValueError:
                pages = [number or text]
            self._pages[(id(bus), led.address)] = (pages, 0, number)
            bus.send(proto.encode(led.address, pages[0], number), key=("led", led.address))
        for bus, address, keypad in self._keypads.get(window, ()):
            if (id(bus), address) in self._notice_until:
                continue  # a notice (网络中断, 无人等候) stays up for a moment; repainted after
            frame = keypad.show_number(address, number) if number else keypad.show_text(address, text[:4])
            bus.send(frame, key=("keypad", address))

    def _repaint_all(self) -> None:
        for window in set(self._leds) | set(self._keypads):
            self._paint_window(window)

    def _repaint_bus(self, bus: SerialBus) -> None:
        for window in {led.window for led in bus.config.leds} | {k.window for k in bus.config.keypads}:
            self._paint_window(window)

    async def _page_loop(self) -> None:
        while True:
            await asyncio.sleep(min(self.config.page_every, 1.0))
            now = time.monotonic()
            if self.answers.changed():
                self._heartbeat_now.set()  # a board fell silent or came back: tell the manager now
            for spot, until in list(self._notice_until.items()):
                if until <= now:
                    del self._notice_until[spot]
                    for window, pads in self._keypads.items():
                        if any((id(bus), address) == spot for bus, address, _ in pads):
                            self._paint_window(window)
            if now < self._next_page:
                continue
            self._next_page = now + self.config.page_every
            for boards in self._leds.values():
                for bus, led, proto in boards:
                    pages, index, number = self._pages.get((id(bus), led.address), ([], 0, None))
                    if len(pages) > 1:
                        index = (index + 1) % len(pages)
                        self._pages[(id(bus), led.address)] = (pages, index, number)
                        bus.send(proto.encode(led.address, pages[index], number), key=("led", led.address))

    # -------------------------------------------------------- devices -> server

    def _device_event(self, bus_index: int, event: KeyPress | RatingPress) -> None:
        if isinstance(event, RatingPress):
            window = self._input_window.get((bus_index, "pad", event.address))
            if window is not None:
                self._rating(window, event.level)
            return
        window = self._input_window.get((bus_index, "key", event.address))
        if window is not None:
            self._key(bus_index, event.address, window, event.action)

    def _keypad_notice(self, bus_index: int, address: int, text: str) -> None:
        bus = self.buses[bus_index]
        keypad = bus.keypad
        if keypad is None:
            return
        bus.send(keypad.beep(address))
        bus.send(keypad.show_text(address, text), key=("keypad", address))
        self._notice_until[(id(bus), address)] = time.monotonic() + _NOTICE_SECONDS

    def _key(self, bus_index: int, address: int, window: str, action: str) -> None:
        view = self.state.window(window)
        hall = self.config.hall
        body: dict[str, Any] = {}
        if action in _WINDOW_ACTIONS:
            path = f"/api/halls/{hall}/windows/{window}/{_WINDOW_ACTIONS[action]}"
        elif action == "pause":
            path = f"/api/halls/{hall}/windows/{window}/{'resume' if view.state == 'paused' else 'pause'}"
            body = {} if view.state == "paused" else {"reason": "呼叫器暂停"}
        elif action == "hold":  # 0 + 确认: set the current ticket aside (持件挂起)
            if view.current_id is None:
                self._keypad_notice(bus_index, address, "无当前号")
                return
            path, body = f"/api/halls/{hall}/tickets/{view.current_id}/suspend", {"kind": "holding"}
        elif action == "call-held":  # 3 + 确认: bring back the ticket held here last
            if not view.held:
                self._keypad_notice(bus_index, address, "无挂起号")
                return
            path = f"/api/halls/{hall}/tickets/{view.held[-1]}/resume"
        else:
            log.info("keypad %s at window %s: key %r has no action here", address, window, action)
            return
        if not self.connected:
            self._keypad_notice(bus_index, address, NETWORK_DOWN_TEXT)
            return
        body["_device"] = {"bus": bus_index, "address": address}
        self.outbox.add("keypad", path, body, ttl=self.config.call_ttl)
        self._sender.wake.set()

    def _rating(self, window: str, level: int) -> None:
        view = self.state.windows.get(window)
        if view is None or view.last_finished_id is None:
            log.warning("rating %s at window %s with no finished ticket: dropped", level, window)
            return
        # Channel "keypad": a five-key pad cannot give a reason, so the server takes its 差评
        # with the reason pending instead of refusing it.
        body = {"level": level, "reasons": [], "channel": self.config.rating_channel, "window": view.api_number}
        path = f"/api/halls/{self.config.hall}/tickets/{view.last_finished_id}/rating"
        self.outbox.add("rating", path, body, ttl=self.config.rating_ttl)
        self._sender.wake.set()

    def _entry_failed_for_good(self, entry: OutboxEntry, status: int | None, answer: str) -> None:
        device = entry.body.get("_device")
        if entry.kind == "keypad" and device:
            text = NETWORK_DOWN_TEXT if status is None else _REFUSAL_TEXT.get(_error_code(answer), "操作失败")
            self._keypad_notice(device["bus"], device["address"], text)

    def _answered(self, entry: OutboxEntry, answer: str) -> None:
        device = entry.body.get("_device")
        if entry.kind == "keypad" and device and entry.path.endswith("/call"):
            try:
                nobody = json.loads(answer).get("ticket", 0) is None
            except (ValueError, AttributeError):
                nobody = False
            if nobody:
                self._keypad_notice(device["bus"], device["address"], NO_ONE_WAITING_TEXT)

    # --------------------------------------------------------- health, printing, audio

    def device_report(self) -> list[dict[str, Any]]:
        """What `POST …/devices/heartbeat` carries: one entry per configured device."""
        return self.health.report(self.buses, self._printers)

    async def _heartbeat_loop(self) -> None:
        while True:
            for index, bus in enumerate(self.buses):
                if bus.config.printers and bus.is_open and not (bus.config.keypads or bus.config.pads):
                    self.health.paper[index] = None
                    bus.send(PAPER_STATUS_QUERY, key="paper-status")
            await asyncio.sleep(0.5)  # give printers a moment to answer
            if self.connected:
                try:
                    await self.http.post(f"/api/halls/{self.config.hall}/devices/heartbeat", json={"devices": self.device_report()})
                except httpx.HTTPError as exc:
                    log.info("heartbeat failed: %s", exc)
            self._heartbeat_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heartbeat_now.wait(), self.config.heartbeat_every)

    async def _maybe_print(self, msg: dict[str, Any]) -> None:
        data = msg.get("data") or {}
        found = self._printers.get(str(data.get("device")))
        if found is not None and await print_issued(self.http, self.config, self.state, found[0], found[1], msg):
            self.printed += 1

    async def _audio_loop(self) -> None:
        await play_calls(self.http, self.config, self._audio)


def _call_all(handlers: list[Callable[[], None]]) -> Callable[[], None]:
    def call() -> None:
        for handler in handlers:
            handler()

    return call


def _fan_out(handlers: list[Callable[[bytes], None]]) -> Callable[[bytes], None]:
    def feed(data: bytes) -> None:
        for handler in handlers:
            handler(data)

    return feed


def _error_code(answer: str) -> str:
    try:
        return str(json.loads(answer).get("error", ""))
    except (ValueError, AttributeError):
        return ""


def _wrote(health: Any, index: int, units: set[int], key: Any, data: bytes) -> None:
    health.wrote(index, key, units, data)
