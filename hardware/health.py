"""Device health for `POST …/devices/heartbeat`: port state, Modbus echoes, printer paper."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hardware.config import PrinterConfig
from hardware.liveness import AnswerWatch
from hardware.printing import paper_ok
from hardware.protocols.modbus import ModbusParser, ModbusWrite
from hardware.serialbus import SerialBus

__all__ = ["DeviceHealth", "api_window"]


def api_window(window: str) -> int | str:
    """Windows are numbers on the server; configuration keeps them as text."""
    return int(window) if window.isdigit() else window


class DeviceHealth:
    """What the bridge knows about each configured device's health."""

    def __init__(self) -> None:
        self.answers = AnswerWatch()
        self.paper: dict[int, bool | None] = {}  # bus index -> paper present (None: no answer yet)
        self._expected: dict[tuple[int, int], ModbusWrite] = {}  # (bus, unit) -> the echo awaited
        self.unexpected_echoes = 0

    def echo_reader(self, index: int, units: set[int]) -> Callable[[bytes], None]:
        """Raw-input handler of a bus with Modbus boards: their echoes mark them alive.

        Only the echo of the write last sent to that unit counts; any other frame (line noise
        that passed the CRC, another master's traffic) is ignored, so it cannot make a silent
        board look alive."""
        parser = ModbusParser(units)

        def feed(data: bytes) -> None:
            for echo in parser.feed(data):
                if self._expected.get((index, echo.unit)) == echo:
                    self.answers.answered((index, echo.unit))
                else:
                    self.unexpected_echoes += 1

        return feed

    def wrote(self, index: int, key: object, units: set[int], data: bytes = b"") -> None:
        if isinstance(key, tuple) and key[0] == "led" and key[1] in units:
            self.answers.wrote((index, key[1]))
            for frame in ModbusParser({key[1]}).feed(data):
                self._expected[(index, key[1])] = frame

    def paper_reader(self, index: int) -> Callable[[bytes], None]:
        def feed(data: bytes) -> None:
            self.paper[index] = paper_ok(data)

        return feed

    def report(
        self, buses: list[SerialBus], printers: Mapping[str, tuple[PrinterConfig, SerialBus | None]]
    ) -> list[dict[str, Any]]:
        """One entry per configured device: {id, kind, window?, ok, detail}."""
        out: list[dict[str, Any]] = []
        for index, bus in enumerate(buses):
            cfg = bus.config
            detail = "" if bus.is_open else bus.last_error
            for led in cfg.leds:
                silent = bus.is_open and self.answers.silent((index, led.address))
                out.append({
                    "id": f"led:{cfg.port}#{led.address}", "kind": "led", "window": api_window(led.window),
                    "ok": bus.is_open and not silent, "detail": "no answer" if silent else detail,
                })
            for kind, devices in (("keypad", cfg.keypads), ("pad", cfg.pads)):
                for d in devices:
                    out.append({
                        "id": f"{kind}:{cfg.port}#{d.address}", "kind": kind, "window": api_window(d.window),
                        "ok": bus.is_open, "detail": detail,
                    })
            for p in cfg.printers:
                paper = self.paper.get(index)
                out.append({
                    "id": f"printer:{p.kiosk}", "kind": "printer", "ok": bus.is_open and paper is not False,
                    "detail": "paper out" if paper is False else detail,
                })
        for kiosk, (p, on_bus) in printers.items():
            if on_bus is None:
                out.append({"id": f"printer:{kiosk}", "kind": "printer", "ok": True, "detail": p.target or ""})
        return out
