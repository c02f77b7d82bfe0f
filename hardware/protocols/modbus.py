"""Modbus RTU numeric boards (LED-485-04x and similar): function 06 writes the shown number.

`01 06 00 00 00 E7 C9 80` shows 231 on unit 1. Requests and the echo a board answers are both
8 bytes: unit, function, register, value, CRC16/Modbus low byte first.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.crc import crc16_bytes
from hardware.protocols.base import ParserStats

__all__ = ["ModbusWrite", "ModbusParser", "encode_write_register", "FUNC_WRITE_REGISTER"]

FUNC_WRITE_REGISTER = 0x06
_FRAME_LEN = 8


@dataclass(frozen=True, slots=True)
class ModbusWrite:
    unit: int
    register: int
    value: int


def encode_write_register(unit: int, value: int, register: int = 0) -> bytes:
    """Function 06: write `value` (0..65535) to `register` of `unit`."""
    if not 0 <= value <= 0xFFFF:
        raise ValueError("Modbus register value out of range")
    body = bytes([unit & 0xFF, FUNC_WRITE_REGISTER]) + register.to_bytes(2, "big") + value.to_bytes(2, "big")
    return body + crc16_bytes(body)


class ModbusParser:
    """Finds function-06 frames in a stream by CRC (RTU has no start byte; real devices use
    a 3.5-character silence, which a byte stream has lost). `units` limits which addresses are
    taken as frame starts; a stray unit byte in noise costs a CRC check, not a frame."""

    def __init__(self, units: set[int] | None = None) -> None:
        self.stats = ParserStats()
        self._buf = bytearray()
        self._units = units

    def feed(self, data: bytes) -> list[ModbusWrite]:
        self._buf += data
        return self._scan(final=False)

    def idle(self) -> list[ModbusWrite]:
        return self._scan(final=True)

    def _drop(self, n: int) -> None:
        self.stats.discarded_bytes += min(n, len(self._buf))
        del self._buf[:n]

    def _scan(self, final: bool) -> list[ModbusWrite]:
        out: list[ModbusWrite] = []
        buf = self._buf
        while buf:
            if buf[0] == 0 or (self._units is not None and buf[0] not in self._units):
                self._drop(1)
                continue
            if len(buf) < 2:
                break
            if buf[1] != FUNC_WRITE_REGISTER:
                self._drop(1)
                continue
            if len(buf) < _FRAME_LEN:
                break
            body = bytes(buf[:6])
            if bytes(buf[6:8]) != crc16_bytes(body):
                self.stats.bad_frames += 1
                self._drop(1)
                continue
            del buf[:_FRAME_LEN]
            self.stats.frames += 1
            out.append(ModbusWrite(body[0], int.from_bytes(body[2:4], "big"), int.from_bytes(body[4:6], "big")))
        if final and buf:
            self._drop(len(buf))
        return out
