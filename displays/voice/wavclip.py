"""Small helpers over the standard ``wave`` module: read, trim silence, scale, join, write.

Only 16-bit PCM is handled, which is what espeak-ng writes and what recorded clips should be
exported as; anything else is refused with ``ClipPackError`` rather than played as noise.
"""

from __future__ import annotations

import array
import io
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Clip", "ClipFormat", "ClipPackError", "read_clip", "silence", "trim", "write_wav"]


class ClipPackError(Exception):
    """A clip is missing, unreadable or in a format the pack cannot join."""


@dataclass(frozen=True)
class ClipFormat:
    """Channels and rate shared by every clip of a pack (samples are always 16-bit)."""

    channels: int
    rate: int


@dataclass(frozen=True)
class Clip:
    """PCM samples (interleaved, 16-bit, native order) and their format."""

    samples: array.array
    fmt: ClipFormat

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.fmt.channels / self.fmt.rate


def read_clip(path: Path) -> Clip:
    """Read a 16-bit PCM WAV file; raises ``ClipPackError`` for anything else."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise ClipPackError(f"{path}: need 16-bit PCM, got {w.getsampwidth() * 8}-bit {w.getcomptype()}")
            fmt = ClipFormat(w.getnchannels(), w.getframerate())
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise ClipPackError(f"{path}: {exc}") from exc
    samples = array.array("h")
    samples.frombytes(data)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    return Clip(samples, fmt)


def trim(clip: Clip, *, threshold: int = 400, keep_ms: int = 15) -> Clip:
    """Drop leading and trailing silence (|sample| < threshold), keeping ``keep_ms`` around the sound.

    A clip that is all silence comes back empty: joining it then adds only the gap.
    """
    s = clip.samples
    ch = clip.fmt.channels
    first = next((i for i, v in enumerate(s) if abs(v) >= threshold), None)
    if first is None:
        return Clip(array.array("h"), clip.fmt)
    last = next(i for i in range(len(s) - 1, -1, -1) if abs(s[i]) >= threshold)
    keep = int(clip.fmt.rate * keep_ms / 1000) * ch
    start = max(0, (first // ch) * ch - keep)
    end = min(len(s), (last // ch + 1) * ch + keep)
    return Clip(s[start:end], clip.fmt)


def silence(fmt: ClipFormat, ms: int) -> array.array:
    """``ms`` milliseconds of silence in ``fmt``."""
    return array.array("h", bytes(2 * fmt.channels * int(fmt.rate * ms / 1000)))


def write_wav(samples: array.array, fmt: ClipFormat, target: Path | io.BytesIO) -> None:
    """Write 16-bit PCM ``samples`` as a WAV file (or into a buffer)."""
    out = samples
    if sys.byteorder == "big":
        out = array.array("h", samples)
        out.byteswap()
    handle = str(target) if isinstance(target, Path) else target
    with wave.open(handle, "wb") as w:
        w.setnchannels(fmt.channels)
        w.setsampwidth(2)
        w.setframerate(fmt.rate)
        w.writeframes(out.tobytes())
