"""The simplest numeric boards: `ID HI LO SUM` (board 5 showing 999 is `05 03 E7 EF`).

There is no start byte and only an 8-bit sum, so the parser needs to know which board ids are on
the line: it takes a frame only where an expected id starts a 4-byte group whose sum matches
and whose value a board can show (the bridge sends a ticket's last four digits: at most 9999).

False frames in uniform noise: a 4-byte group passes with probability k/256 (an expected id, k
boards on the line) x 1/256 (the sum) x 10000/65536 (a value up to 9999), i.e. 2.3 per million
noise bytes for one board, 18.6 for eight. Measured by `benchmarks/simple_false_frames.py`
(4 MB of seeded noise): 2.5 per million with one board, 20.8 with eight; without the value
check 17.0 and 128 (the "~100 per million" once seen). The protocol cannot do better than its
8-bit sum; a noisy line needs the open frame (CRC-16) or Modbus.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.protocols.base import ParserStats

__all__ = ["SimpleNumber", "SimpleNumberParser", "encode_simple_number"]


@dataclass(frozen=True, slots=True)
class SimpleNumber:
    board: int
    value: int


def encode_simple_number(board: int, value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError("number out of range for a 2-byte board")
    body = bytes([board & 0xFF]) + value.to_bytes(2, "big")
    return body + bytes([sum(body) & 0xFF])


class SimpleNumberParser:
    """Incremental parser; see `hardware.protocols.base.StreamParser`."""

    def __init__(self, boards: set[int], max_value: int = 9999) -> None:
        self.stats = ParserStats()
        self._buf = bytearray()
        self._boards = boards
        self._max_value = max_value  # a value no board is sent is a false frame

    def feed(self, data: bytes) -> list[SimpleNumber]:
        self._buf += data
        return self._scan(final=False)

    def idle(self) -> list[SimpleNumber]:
        return self._scan(final=True)

    def _drop(self, n: int) -> None:
        self.stats.discarded_bytes += min(n, len(self._buf))
        del self._buf[:n]

    def _scan(self, final: bool) -> list[SimpleNumber]:
        out: list[SimpleNumber] = []
        buf = self._buf
        while buf:
            if buf[0] not in self._boards:
                self._drop(1)
                continue
            if len(buf) < 4:
                break
            if buf[3] != (buf[0] + buf[1] + buf[2]) & 0xFF or int.from_bytes(buf[1:3], "big") > self._max_value:
                self.stats.bad_frames += 1
                self._drop(1)
                continue
            out.append(SimpleNumber(buf[0], int.from_bytes(buf[1:3], "big")))
            del buf[:4]
            self.stats.frames += 1
        if final and buf:
            self._drop(len(buf))
        return out
