"""Independent, reproducible random streams: one per source of randomness and per day.

Two configurations run with the same seed draw each person's arrival time, matter, service
time, patience, no-show and punctuality from the same streams in the same order, so they see
the same people (common random numbers) and their difference has far less noise than two
independent runs. A stream's seed is a SHA-256 digest of (seed, day, source, key), so streams
never overlap in practice and adding a source never shifts the others.
"""

from __future__ import annotations

import hashlib
import random
from enum import StrEnum

__all__ = ["Source", "Streams", "stream_seed"]


class Source(StrEnum):
    ARRIVALS = "arrivals"
    MATTER = "matter"
    SERVICE = "service"
    PATIENCE = "patience"
    NO_SHOW = "no_show"
    PUNCTUALITY = "punctuality"
    PRIORITY = "priority"
    STAFF = "staff"
    RECHECK = "recheck"
    BALK = "balk"  # whether a person who sees a long queue leaves at once
    VOLUME = "volume"  # the day's volume multiplier (`sim.variation`)
    TRANSFER = "transfer"  # whether a person is transferred after service, and the 2nd service
    MULTI = "multi"  # how many matters a ticket carries (一事联办)
    SUSPEND = "suspend"  # whether a service is suspended (挂起) and when the person comes back
    PAUSE = "pause"  # a window's short pauses (暂停服务), one stream per window number


def stream_seed(seed: int, day: int, source: str, key: str = "") -> int:
    """The 64-bit seed of one stream; stable across Python versions and machines."""
    digest = hashlib.sha256(f"hall-sim|{seed}|{day}|{source}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class Streams:
    """The streams of one replication (day). `get(source, key)` is created once and cached.

    `key` splits a source further, e.g. arrivals per category, so that adding a category does
    not change the arrival times of the others.
    """

    __slots__ = ("seed", "day", "_cache")

    def __init__(self, seed: int, day: int) -> None:
        self.seed = seed
        self.day = day
        self._cache: dict[tuple[str, str], random.Random] = {}

    def get(self, source: Source | str, key: str = "") -> random.Random:
        k = (str(source), key)
        rng = self._cache.get(k)
        if rng is None:
            rng = random.Random(stream_seed(self.seed, self.day, str(source), key))
            self._cache[k] = rng
        return rng
