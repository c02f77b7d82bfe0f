"""What every incremental parser shares: counters and the small interface the bridge relies on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["ParserStats", "StreamParser", "Frame"]

Frame = TypeVar("Frame")


@dataclass
class ParserStats:
    """Counters a parser keeps; the bridge logs them and reports them with device health."""

    frames: int = 0
    bad_frames: int = 0  # a plausible header whose checksum, length or end byte was wrong
    discarded_bytes: int = 0  # bytes dropped while looking for a frame start


class StreamParser(Protocol, Generic[Frame]):
    """Takes arbitrary chunks of a byte stream; never raises on bad bytes.

    `feed` returns every frame completed by the chunk (several per chunk, or none while a frame
    is split over reads). `idle` is called when the line has gone quiet: a half-received frame can
    then never complete, so the parser gives up on it and rescans what it holds (a garbage
    header with a huge length field would otherwise hide a real frame behind it until more
    bytes come).
    """

    stats: ParserStats

    def feed(self, data: bytes) -> list[Frame]: ...

    def idle(self) -> list[Frame]: ...
