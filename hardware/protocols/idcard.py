"""Serial ID-card readers (身份证阅读器) in "number mode": the 18-character number, then CR/LF.

Readers that decode the full card (photo, address) use vendor SDKs; the kiosk only needs the
number. A number is taken only as a whole token: a run of digits and X between separators (any
other byte, or a quiet line, since some readers send no line end) that is exactly 18 characters
long with the GB 11643 check character. A run of 19 digits is refused whole, never cut to 18:
a stray digit before a number would otherwise turn it, once in eleven, into somebody else's
valid number. Noise between numbers is dropped as it comes, so it never pushes a number out.
"""

from __future__ import annotations

import re

from hardware.protocols.base import ParserStats

__all__ = ["IdCardParser", "valid_id_number"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_LENGTH = 18
_TOKEN = frozenset(b"0123456789Xx")


def valid_id_number(number: str) -> bool:
    """True for an 18-character number whose check character matches (GB 11643-1999)."""
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()


class IdCardParser:
    """Incremental; `feed` returns the valid numbers completed by the chunk, upper-cased."""

    def __init__(self) -> None:
        self.stats = ParserStats()
        self._token = bytearray()
        self._overlong = False  # the current run passed 18 characters: refuse it whole

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for b in data:
            if b in _TOKEN:
                if self._overlong:
                    self.stats.discarded_bytes += 1
                elif len(self._token) == _LENGTH:
                    self._overlong = True
                    self.stats.discarded_bytes += len(self._token) + 1
                    self._token.clear()
                else:
                    self._token.append(b)
            else:
                self._finish(out)
                self.stats.discarded_bytes += b not in (0x0D, 0x0A)
        return out

    def idle(self) -> list[str]:
        # Some readers send no line end: a quiet line ends the number.
        out: list[str] = []
        self._finish(out)
        return out

    def _finish(self, out: list[str]) -> None:
        if self._overlong:
            self.stats.bad_frames += 1
        elif self._token:
            text = self._token.decode("ascii")
            if len(text) == _LENGTH and valid_id_number(text):
                self.stats.frames += 1
                out.append(text.upper())
            else:
                # Short runs of digits are line noise more often than a misread card.
                if len(text) == _LENGTH:
                    self.stats.bad_frames += 1
                self.stats.discarded_bytes += len(text)
        self._token.clear()
        self._overlong = False
