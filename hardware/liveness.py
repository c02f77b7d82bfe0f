"""Which devices stopped answering. Only devices that answer every frame can be watched this way:
Modbus RTU boards echo each register write; our open strip frame, simple numeric boards and
`FF 68` keypads do not answer, so for them the bridge can only report whether their port is open.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

__all__ = ["AnswerWatch"]


class AnswerWatch:
    """`wrote(spot)` after a frame that wants an answer, `answered(spot)` when it came. A spot is
    silent once a frame has waited longer than `timeout` seconds for its answer."""

    def __init__(self, timeout: float = 1.0) -> None:
        self.timeout = timeout
        self._waiting: dict[Hashable, float] = {}
        self._reported: set[Hashable] = set()

    def wrote(self, spot: Hashable) -> None:
        self._waiting.setdefault(spot, time.monotonic())  # the oldest unanswered frame counts

    def answered(self, spot: Hashable) -> None:
        self._waiting.pop(spot, None)

    def silent(self, spot: Hashable) -> bool:
        since = self._waiting.get(spot)
        return since is not None and time.monotonic() - since > self.timeout

    def changed(self) -> bool:
        """True when the set of silent spots differs from the last call (report it now)."""
        now = {spot for spot in self._waiting if self.silent(spot)}
        if now != self._reported:
            self._reported = now
            return True
        return False
