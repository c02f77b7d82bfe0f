"""Protocol plug-ins chosen by name in the bridge configuration.

Two kinds: *board* protocols turn what a window's LED board should show into bytes; *keypad*
protocols decode what keypads and rating pads send and encode what the host sends back. A vendor's
closed protocol is a small class registered here (`register_board_protocol`) or named in the
configuration as `"package.module:Class"`, imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hardware.protocols import ff68
from hardware.protocols.base import ParserStats
from hardware.protocols.ledframe import encode_led
from hardware.protocols.modbus import encode_write_register
from hardware.protocols.simple import encode_simple_number

__all__ = [
    "BoardProtocol",
    "KeypadProtocol",
    "KeyPress",
    "RatingPress",
    "board_protocol",
    "keypad_protocol",
    "register_board_protocol",
    "register_keypad_protocol",
    "OpenStrip",
    "ModbusNumber",
    "SimpleNumber",
    "FF68Keypads",
]


class BoardProtocol(Protocol):
    """Bytes for one LED board. `text` is one page already laid out for the board's width;
    `number` is the ticket number when the board shows a call (numeric boards show only it)."""

    def encode(self, address: int, text: str, number: str | None) -> bytes: ...


@dataclass(frozen=True, slots=True)
class KeyPress:
    address: int
    action: str  # call | recall | rate | pause | transfer | no-show | hold | call-held | confirm
    key: int
    digit: int | None = None


@dataclass(frozen=True, slots=True)
class RatingPress:
    address: int
    level: int  # 1..5, 5 = 非常满意, already mapped from the vendor's code


class KeypadProtocol(Protocol):
    """Both directions of a keypad / rating-pad bus."""

    stats: ParserStats

    def feed(self, data: bytes) -> list[tuple[KeyPress | RatingPress | None, bytes | None]]:
        """Decode a chunk: each item is (event or None for frames we ignore, ack bytes or None)."""
        ...

    def idle(self) -> list[tuple[KeyPress | RatingPress | None, bytes | None]]: ...

    def show_number(self, address: int, number: str) -> bytes: ...

    def show_text(self, address: int, text: str) -> bytes: ...

    def beep(self, address: int) -> bytes: ...


class OpenStrip:
    """Our open strip frame (CMD 31, GB2312 text)."""

    def __init__(self, cmd: int = 0x31, **_: Any) -> None:
        self.cmd = cmd

    def encode(self, address: int, text: str, number: str | None) -> bytes:
        return encode_led(address, text, self.cmd)


def _digits(number: str | None) -> int:
    digits = "".join(c for c in number or "" if c.isdigit())
    return int(digits[-4:]) if digits else 0


class ModbusNumber:
    """Modbus RTU numeric board: function 06 on `register`; shows the ticket's digits (A023 -> 23)."""

    def __init__(self, register: int = 0, **_: Any) -> None:
        self.register = register

    def encode(self, address: int, text: str, number: str | None) -> bytes:
        return encode_write_register(address, _digits(number), self.register)


class SimpleNumber:
    """`ID HI LO SUM` numeric board."""

    def __init__(self, **_: Any) -> None:
        pass

    def encode(self, address: int, text: str, number: str | None) -> bytes:
        return encode_simple_number(address, _digits(number))


# Keys seen in practice; vendors differ, so the configuration may replace the map.
DEFAULT_KEYS: dict[int, str] = {
    0x0C: "call",
    0x0D: "recall",
    0x0B: "rate",
    0x12: "pause",
    0x13: "transfer",
    0x0F: "confirm",
    # Not in the vendor list above: our defaults for keypads with start (开始办理) and finish
    # (办结) keys, which the server needs before the next call (a called ticket is not finished).
    0x0E: "start",
    0x10: "finish",
}
# 确认 after a typed digit: 6 = give up / no-show, 0 = hold, 3 = call back a held ticket.
CONFIRM_DIGITS: dict[int, str] = {6: "no-show", 0: "hold", 3: "call-held"}


class FF68Keypads:
    """`FF 68` keypads and rating pads. Every options key can be set in the bridge config."""

    def __init__(
        self,
        key_cmd: int = ff68.CMD_KEY,
        rating_cmd: int = ff68.CMD_RATING,
        text_cmd: int = ff68.CMD_TEXT,
        keys: Mapping[int, str] | None = None,
        levels: Mapping[int, int] | None = None,
        digit_positions: int = 6,
        ack: bool = True,
        **_: Any,
    ) -> None:
        self.key_cmd = key_cmd
        self.rating_cmd = rating_cmd
        self.text_cmd = text_cmd
        self.keys = dict(keys) if keys else dict(DEFAULT_KEYS)
        self.levels = dict(levels) if levels else {n: n for n in range(1, 6)}
        self.digit_positions = digit_positions
        self.ack = ack
        self._parser = ff68.FF68Parser()
        self.stats = self._parser.stats

    def feed(self, data: bytes) -> list[tuple[KeyPress | RatingPress | None, bytes | None]]:
        return [self._event(f) for f in self._parser.feed(data)]

    def idle(self) -> list[tuple[KeyPress | RatingPress | None, bytes | None]]:
        return [self._event(f) for f in self._parser.idle()]

    def _event(self, frame: ff68.FF68Frame) -> tuple[KeyPress | RatingPress | None, bytes | None]:
        ack = frame.raw if self.ack else None
        if frame.cmd == self.rating_cmd and frame.data:
            level = self.levels.get(frame.data[0])
            return (RatingPress(frame.address, level) if level else None), ack
        if frame.cmd == self.key_cmd and frame.data:
            key = frame.data[-1]
            action = self.keys.get(key)
            digit = frame.data[-2] if len(frame.data) >= 2 else None
            if action == "confirm" and digit is not None:
                action = CONFIRM_DIGITS.get(digit, "confirm")
            return (KeyPress(frame.address, action, key, digit) if action else None), ack
        return None, None  # our own echoes or frames for other devices

    def show_number(self, address: int, number: str) -> bytes:
        return ff68.digits_frame(address, number, self.digit_positions)

    def show_text(self, address: int, text: str) -> bytes:
        return ff68.text_frame(address, text, self.text_cmd)

    def beep(self, address: int) -> bytes:
        return ff68.beep_frame(address)


_BOARDS: dict[str, Callable[..., BoardProtocol]] = {
    "open": OpenStrip,
    "modbus": ModbusNumber,
    "simple": SimpleNumber,
}
_KEYPADS: dict[str, Callable[..., KeypadProtocol]] = {"ff68": FF68Keypads}


def register_board_protocol(name: str, factory: Callable[..., BoardProtocol]) -> None:
    _BOARDS[name] = factory


def register_keypad_protocol(name: str, factory: Callable[..., KeypadProtocol]) -> None:
    _KEYPADS[name] = factory


def _load(name: str, table: Mapping[str, Callable[..., Any]], kind: str) -> Callable[..., Any]:
    if name in table:
        return table[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        return getattr(importlib.import_module(module), attr)
    raise KeyError(f"unknown {kind} protocol {name!r}; known: {', '.join(sorted(table))}")


def board_protocol(name: str, **options: Any) -> BoardProtocol:
    """Instantiate a board protocol by name (or `module:Class`); raises KeyError if unknown."""
    return _load(name, _BOARDS, "board")(**options)


def keypad_protocol(name: str, **options: Any) -> KeypadProtocol:
    """Instantiate a keypad protocol by name (or `module:Class`); raises KeyError if unknown."""
    return _load(name, _KEYPADS, "keypad")(**options)
