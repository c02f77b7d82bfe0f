"""Clocks passed into the engine: it never reads the system time itself.

An instant is a float of seconds since the Unix epoch (UTC). The server passes `SystemClock`,
tests pass `FixedClock`, and the simulator passes a clock that reads SimPy's `env.now`.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "FixedClock"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, instant: float) -> None:
        self._now = float(instant)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self._now += seconds
        return self._now
