"""Read ESC/POS bytes back into what a person would see: text lines, QR payloads, cuts.

Used by the printer emulator (and tests) to capture tickets as text. Unknown commands are
skipped by their known lengths; text is GB18030.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PrintedTicket", "EscPosDecoder"]

# Fixed-length commands: prefix -> total length in bytes.
_FIXED = {
    b"\x1b@": 2, b"\x1ba": 3, b"\x1d!": 3, b"\x1bd": 3, b"\x1bE": 3, b"\x1b!": 3, b"\x1b-": 3,
    b"\x1b2": 2, b"\x1b3": 3, b"\x1bt": 3, b"\x1bM": 3, b"\x1bG": 3, b"\x1c&": 2, b"\x1c.": 2,
    b"\x1bJ": 3, b"\x1d\x42": 3, b"\x1bV": 3, b"\x1b{": 3, b"\x1dL": 4, b"\x1dW": 4,
}


@dataclass
class PrintedTicket:
    lines: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class EscPosDecoder:
    """Feed bytes in any chunks; completed tickets (ended by a cut) appear in `tickets`.
    `status_queries` counts `DLE EOT n` requests, which the emulator answers."""

    def __init__(self) -> None:
        self.tickets: list[PrintedTicket] = []
        self.current = PrintedTicket()
        self.status_queries = 0
        self._buf = bytearray()
        self._text = bytearray()

    def feed(self, data: bytes) -> int:
        """Returns the number of status queries found in this chunk (each wants one reply)."""
        self._buf += data
        before = self.status_queries
        while self._step():
            pass
        return self.status_queries - before

    def _flush_text(self) -> None:
        if self._text:
            self.current.lines.append(self._text.decode("gb18030", errors="replace"))
            self._text.clear()

    def _step(self) -> bool:
        buf = self._buf
        if not buf:
            return False
        b = buf[0]
        if b == 0x0A:
            self._flush_text()
            del buf[:1]
            return True
        if b not in (0x1B, 0x1D, 0x1C, 0x10):
            self._text.append(b)
            del buf[:1]
            return True
        if len(buf) < 2:
            return False
        if buf[:2] == b"\x10\x04":
            if len(buf) < 3:
                return False
            self.status_queries += 1
            del buf[:3]
            return True
        if buf[:2] == b"\x1dV":
            if len(buf) < 3:
                return False
            n = 4 if buf[2] in (65, 66) else 3
            if len(buf) < n:
                return False
            del buf[:n]
            self._flush_text()
            self.tickets.append(self.current)
            self.current = PrintedTicket()
            return True
        if buf[:3] == b"\x1d(k" or buf[:2] == b"\x1d(":
            if len(buf) < 5:
                return False
            size = int.from_bytes(buf[3:5], "little")
            if len(buf) < 5 + size:
                return False
            body = bytes(buf[5 : 5 + size])
            if buf[2] == ord("k") and body[:3] == b"1P0":
                self.current.qr.append(body[3:].decode("utf-8", errors="replace"))
            del buf[: 5 + size]
            return True
        fixed = _FIXED.get(bytes(buf[:2]))
        if fixed is None:
            del buf[:1]  # unknown escape: skip the prefix byte and carry on
            return True
        if len(buf) < fixed:
            return False
        del buf[:fixed]
        return True
