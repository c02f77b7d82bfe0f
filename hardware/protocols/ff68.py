"""Keypad (呼叫器) and rating-pad (评价器) frames: `FF 68 L L 68 ADDR CMD DATA… CS 16`.

`L` counts ADDR through the last DATA byte and is sent twice; `CS` is the sum of ADDR..DATA modulo
256. The leading `FF` is a wake-up byte some vendors omit, so the parser syncs on `68 L L 68`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.protocols.base import ParserStats

__all__ = [
    "FF68Frame",
    "FF68Parser",
    "encode_ff68",
    "digits_frame",
    "beep_frame",
    "text_frame",
    "key_frame",
    "rating_frame",
    "CMD_DIGITS",
    "CMD_BEEP",
    "CMD_TEXT",
    "CMD_KEY",
    "CMD_RATING",
    "BLANK",
]

CMD_DIGITS = 0x02
CMD_BEEP = 0x03
# Showing text (网络中断) is not in the common vendor set, which only shows digits: CMD 04 with
# GB2312 text is our convention for keypads that have a character display. Configurable.
CMD_TEXT = 0x04
CMD_KEY = 0x01  # varies by vendor; the bridge configuration overrides it
CMD_RATING = 0x11
BLANK = 0x0A
MAX_LEN = 64  # real frames carry a handful of bytes; a bigger L is garbage


@dataclass(frozen=True, slots=True)
class FF68Frame:
    """One decoded frame; `raw` is its exact bytes (the host acknowledges by echoing them)."""

    address: int
    cmd: int
    data: bytes
    raw: bytes

    @property
    def key(self) -> int | None:
        """A keypad frame's key code: the last DATA byte."""
        return self.data[-1] if self.data else None


def encode_ff68(address: int, cmd: int, data: bytes = b"") -> bytes:
    """Encode one frame, with the `FF` wake-up byte."""
    body = bytes([address & 0xFF, cmd & 0xFF]) + bytes(data)
    length = len(body)
    if length > 255:
        raise ValueError("FF 68 frame data too long")
    return bytes([0xFF, 0x68, length, length, 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def digits_frame(address: int, digits: str, positions: int = 6) -> bytes:
    """Show a number on a keypad: non-digits are dropped (A023 -> 023), blanks pad the left."""
    only = [int(c) for c in digits if c.isdigit()][-positions:]
    cells = [BLANK] * (positions - len(only)) + only
    return encode_ff68(address, CMD_DIGITS, bytes(cells))


def beep_frame(address: int) -> bytes:
    return encode_ff68(address, CMD_BEEP)


def text_frame(address: int, text: str, cmd: int = CMD_TEXT) -> bytes:
    return encode_ff68(address, cmd, text.encode("gb2312", errors="replace"))


def key_frame(address: int, key: int, cmd: int = CMD_KEY, digit: int | None = None) -> bytes:
    """What a keypad sends: an optional typed digit, then the key as the last DATA byte."""
    data = bytes([digit, key]) if digit is not None else bytes([key])
    return encode_ff68(address, cmd, data)


def rating_frame(address: int, level: int, cmd: int = CMD_RATING) -> bytes:
    return encode_ff68(address, cmd, bytes([level]))


class FF68Parser:
    """Incremental parser; see `hardware.protocols.base.StreamParser`."""

    def __init__(self) -> None:
        self.stats = ParserStats()
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[FF68Frame]:
        self._buf += data
        return self._scan(final=False)

    def idle(self) -> list[FF68Frame]:
        return self._scan(final=True)

    def _drop(self, n: int) -> None:
        # A leading FF wake-up byte is not garbage.
        self.stats.discarded_bytes += sum(1 for b in self._buf[:n] if b != 0xFF)
        del self._buf[:n]

    def _scan(self, final: bool) -> list[FF68Frame]:
        out: list[FF68Frame] = []
        buf = self._buf
        while True:
            start = buf.find(0x68)
            if start < 0:
                self._drop(len(buf))
                return out
            if start:
                self._drop(start)
            if len(buf) < 4:
                if final:
                    self._drop(len(buf))
                return out
            length = buf[1]
            if buf[2] != length or buf[3] != 0x68 or length < 2 or length > MAX_LEN:
                self._drop(1)
                continue
            total = 4 + length + 2
            if len(buf) < total:
                if final:
                    # The frame can no longer complete: rescan behind its start.
                    self.stats.bad_frames += 1
                    self._drop(1)
                    continue
                return out
            body = bytes(buf[4 : 4 + length])
            if buf[4 + length] != sum(body) & 0xFF or buf[total - 1] != 0x16:
                self.stats.bad_frames += 1
                self._drop(1)
                continue
            raw = b"\xff" + bytes(buf[:total])
            del buf[:total]
            self.stats.frames += 1
            out.append(FF68Frame(body[0], body[1], body[2:], raw))
