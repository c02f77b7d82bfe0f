"""Emulators over pseudo-terminals, driven through pyserial like the bridge drives real ports."""

from __future__ import annotations

import os
import time

import serial

from hardware.emulators import BusEmulator, LedBoard
from hardware.printing import PAPER_STATUS_QUERY, TicketJob, render_ticket
from hardware.protocols.ff68 import CMD_KEY, beep_frame, digits_frame, key_frame, text_frame
from hardware.protocols.ledframe import encode_led
from hardware.protocols.modbus import encode_write_register


def test_led_board_shows_text_and_ignores_other_addresses() -> None:
    with BusEmulator(leds=[LedBoard(8), LedBoard(2, "modbus")]) as bus:
        with serial.Serial(bus.path, 9600, timeout=1) as port:
            port.write(encode_led(7, "别的窗口") + encode_led(8, "请A023号到8号窗口"))
            port.write(encode_write_register(2, 231))
            assert bus.wait_for(lambda r: len(r) >= 2)
    assert bus.leds[8].shown == "请A023号到8号窗口"
    assert bus.leds[2].shown == "231"
    led8 = [r for r in bus.received if r.address == 8]
    assert led8[0].raw == encode_led(8, "请A023号到8号窗口")


def test_keypad_shows_digits_text_and_beeps_and_sends_keys() -> None:
    with BusEmulator(keypads=[8]) as bus:
        with serial.Serial(bus.path, 9600, timeout=1) as port:
            port.write(digits_frame(8, "A023") + beep_frame(8) + text_frame(8, "网络中断"))
            assert bus.wait_for(lambda r: len(r) >= 3)
            bus.press(8, 0x0C)
            assert port.read(len(key_frame(8, 0x0C, CMD_KEY))) == key_frame(8, 0x0C, CMD_KEY)
    pad = bus.keypads[8]
    assert pad.history == ["023", "beep", "网络中断"]
    assert pad.beeps == 1


def test_printer_captures_ticket_and_answers_paper_status() -> None:
    job = TicketJob("大厅", "社保", "B007", 2, None, "2026-11-21 09:00", "http://x/p/1")
    with BusEmulator(printer=True) as bus:
        with serial.Serial(bus.path, 9600, timeout=1) as port:
            port.write(PAPER_STATUS_QUERY)
            assert port.read(1) == b"\x12"
            bus.paper_out = True
            port.write(PAPER_STATUS_QUERY)
            assert port.read(1) == b"\x72"
            port.write(render_ticket(job, 58))
            assert bus.wait_for(lambda r: any(x.kind == "printer" for x in r))
    (ticket,) = bus.tickets()
    assert "B007" in ticket.lines and ticket.qr == ["http://x/p/1"]


def test_paced_bus_takes_line_time() -> None:
    frame = encode_led(1, "请A023号到8号窗口")  # 25 bytes: 26 ms at 9600 baud
    with BusEmulator(leds=[LedBoard(1)], baud=9600) as bus:
        with serial.Serial(bus.path, 9600, timeout=1) as port:
            start = time.monotonic()
            port.write(frame * 10)
            assert bus.wait_for(lambda r: len(r) >= 10)
    assert bus.received[-1].at - start >= 0.2  # 250 bytes need 260 ms on a real line


def test_unplug_and_replug_under_same_link(tmp_path) -> None:  # type: ignore[no-untyped-def]
    link = str(tmp_path / "ttyLED0")
    with BusEmulator(leds=[LedBoard(1)], link=link) as bus:
        bus.unplug()
        bus.replug()
        assert os.path.exists(link)  # the link points at the new pty
        with serial.Serial(link, 9600, timeout=1) as port:
            port.write(encode_led(1, "欢迎光临"))
            assert bus.wait_for(lambda r: len(r) == 1)
    assert bus.leds[1].shown == "欢迎光临"
