"""Our open LED strip frame: `02 ADDR CMD LENlo LENhi DATA CRClo CRChi 03`.

DATA is GB2312 text; the CRC16/Modbus covers ADDR..DATA. The parser goes by the length field and
never searches for `03`, because length and CRC bytes can hold `02` or `03`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.crc import crc16_bytes
from hardware.protocols.base import ParserStats

__all__ = ["LedFrame", "LedFrameParser", "encode_led", "CMD_SHOW", "CMD_CLEAR", "MAX_DATA"]

STX, ETX = 0x02, 0x03
CMD_SHOW = 0x31
CMD_CLEAR = 0x30
MAX_DATA = 512  # a strip holds a few dozen characters; anything longer is garbage


@dataclass(frozen=True, slots=True)
class LedFrame:
    address: int
    cmd: int
    data: bytes
    raw: bytes = b""  # the exact frame bytes as received

    @property
    def text(self) -> str:
        return self.data.decode("gb2312", errors="replace")


def encode_led(address: int, text: str, cmd: int = CMD_SHOW) -> bytes:
    """Encode text for one board; characters outside GB2312 become `?`."""
    data = text.encode("gb2312", errors="replace")
    if len(data) > MAX_DATA:
        raise ValueError(f"LED text longer than {MAX_DATA} bytes")
    body = bytes([address & 0xFF, cmd & 0xFF]) + len(data).to_bytes(2, "little") + data
    return bytes([STX]) + body + crc16_bytes(body) + bytes([ETX])


class LedFrameParser:
    """Incremental parser; see `hardware.protocols.base.StreamParser`."""

    def __init__(self) -> None:
        self.stats = ParserStats()
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[LedFrame]:
        self._buf += data
        return self._scan(final=False)

    def idle(self) -> list[LedFrame]:
        return self._scan(final=True)

    def _drop(self, n: int) -> None:
        self.stats.discarded_bytes += min(n, len(self._buf))
        del self._buf[:n]

    def _scan(self, final: bool) -> list[LedFrame]:
        out: list[LedFrame] = []
        buf = self._buf
        while True:
            start = buf.find(STX)
            if start < 0:
                self._drop(len(buf))
                return out
            if start:
                self._drop(start)
            if len(buf) < 5:
                if final:
                    self._drop(len(buf))
                return out
            length = int.from_bytes(buf[3:5], "little")
            if length > MAX_DATA:
                self._drop(1)
                continue
            total = 1 + 4 + length + 3
            if len(buf) < total:
                if final:
                    self.stats.bad_frames += 1
                    self._drop(1)
                    continue
                return out
            body = bytes(buf[1 : 5 + length])
            if bytes(buf[5 + length : 7 + length]) != crc16_bytes(body) or buf[total - 1] != ETX:
                self.stats.bad_frames += 1
                self._drop(1)
                continue
            raw = bytes(buf[:total])
            del buf[:total]
            self.stats.frames += 1
            out.append(LedFrame(body[0], body[1], body[4:], raw))
