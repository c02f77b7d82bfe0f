"""Serial ID-card readers (身份证阅读器) in "number mode": the 18-character number, then CR/LF.

Readers that decode the full card (photo, address) use vendor SDKs; the kiosk only needs the
number. Lines that are not a valid resident ID number (17 digits, then a digit or X, with the
GB 11643 check character) are counted as bad frames and dropped.
"""

from __future__ import annotations

import re

from hardware.protocols.base import ParserStats

__all__ = ["IdCardParser", "valid_id_number"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID = re.compile(rb"\d{17}[\dXx]")
_MAX_LINE = 64  # a reader line is 18 characters; anything longer is noise


def valid_id_number(number: str) -> bool:
    """True for an 18-character number whose check character matches (GB 11643-1999)."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()


class IdCardParser:
    """Incremental; `feed` returns the valid numbers completed by the chunk, upper-cased."""

    def __init__(self) -> None:
        self.stats = ParserStats()
        self._line = bytearray()

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for b in data:
            if b in (0x0D, 0x0A):
                if self._line:
                    self._finish(out)
                continue
            self._line.append(b)
            if len(self._line) > _MAX_LINE:
                self.stats.discarded_bytes += len(self._line)
                self._line.clear()
        return out

    def idle(self) -> list[str]:
        # Some readers send no line end: a quiet line ends the number.
        out: list[str] = []
        if self._line:
            self._finish(out)
        return out

    def _finish(self, out: list[str]) -> None:
        line = bytes(self._line)
        self._line.clear()
        match = _ID.search(line)
        if match and valid_id_number(match.group().decode()):
            self.stats.frames += 1
            self.stats.discarded_bytes += len(line) - 18
            out.append(match.group().decode().upper())
        else:
            self.stats.bad_frames += 1
            self.stats.discarded_bytes += len(line)
