"""Notification adapters (SMS, WeChat): an interface with a default that only logs.

A deployment plugs in its SMS gateway or WeChat template-message sender by passing an object
with `async send(channel, to, text, kind)` as `state.notifier` (see `start_background`). The
default `LogNotifier` writes one log line per message and never raises; `MemoryNotifier` keeps
messages for tests. Phone numbers in logs are masked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hall.security.crypto import mask

__all__ = ["Notifier", "LogNotifier", "MemoryNotifier", "Message"]

log = logging.getLogger("hall.operations.notify")


@runtime_checkable
class Notifier(Protocol):
    async def send(self, channel: str, to: str, text: str, kind: str) -> None:
        """Send one message. `channel`: "sms" | "wechat" | "manager"; `kind` says why
        (ahead, called, alert, alert_cleared). Raising means it was not sent."""
        ...


class LogNotifier:
    """The default: logs instead of sending."""

    async def send(self, channel: str, to: str, text: str, kind: str) -> None:
        shown = mask(to) if to.isdigit() else to
        log.info("notify %s to %s (%s): %s", channel, shown, kind, text)


@dataclass(frozen=True)
class Message:
    channel: str
    to: str
    text: str
    kind: str


@dataclass
class MemoryNotifier:
    """Keeps what was sent (tests, demos)."""

    sent: list[Message] = field(default_factory=list)

    async def send(self, channel: str, to: str, text: str, kind: str) -> None:
        self.sent.append(Message(channel, to, text, kind))
