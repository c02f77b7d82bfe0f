"""Delivers the outbox to the server: in order, one at a time, each with its Idempotency-Key.

2xx: done. 4xx (but 408/425/429): final, logged as refused, never retried. 5xx, timeouts and
lost connections: kept and retried with back-off, waking at once when the server is back.
Expired entries are dropped. A keypad action that could not even connect is refused at once:
nothing reached the server, and the person at the window should not wait on a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx

from hardware.outbox import Outbox, OutboxEntry

__all__ = ["OutboxSender"]

log = logging.getLogger(__name__)
_RETRY_4XX = {408, 425, 429}  # "try again later" answers, not refusals


class OutboxSender:
    """`await run()` until cancelled; `wake.set()` after adding an entry or on reconnecting.

    `on_final(entry, status, answer)` runs after an entry is refused (status None = expired or
    unreachable); `on_done(entry, answer)` after a 2xx. Both run on the event loop."""

    def __init__(
        self,
        outbox: Outbox,
        http: Callable[[], httpx.AsyncClient],
        on_final: Callable[[OutboxEntry, int | None, str], None],
        on_done: Callable[[OutboxEntry, str], None],
    ) -> None:
        self.outbox = outbox
        self._http = http
        self._on_final = on_final
        self._on_done = on_done
        self.wake = asyncio.Event()

    def _final(self, entry: OutboxEntry, status: int | None, answer: str) -> None:
        self.outbox.refuse(entry, status, answer)
        log.warning("%s %s refused (%s): %s", entry.kind, entry.path, status or "not delivered", answer[:200])
        self._on_final(entry, status, answer)

    async def _pause(self, seconds: float) -> None:
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    async def run(self) -> None:
        failures = 0
        while True:
            entries = self.outbox.pending(50)
            if not entries:
                await self._pause(5)
                continue
            for entry in entries:
                if self.outbox.expired(entry):
                    self._final(entry, None, "expired before the server answered")
                    continue
                body = {k: v for k, v in entry.body.items() if not k.startswith("_")}
                try:
                    r = await self._http().post(entry.path, json=body, headers={"Idempotency-Key": entry.key})
                except httpx.ConnectError as exc:
                    if entry.kind == "keypad":
                        self._final(entry, None, f"server unreachable: {exc}")
                        continue
                    status, answer = None, f"{type(exc).__name__}: {exc}"
                except httpx.HTTPError as exc:
                    # A timeout may hide a call the server did: retry with the same key, which
                    # the server answers from its idempotency record.
                    status, answer = None, f"{type(exc).__name__}: {exc}"
                else:
                    status, answer = r.status_code, r.text
                if status is not None and status < 300:
                    self.outbox.done(entry.key)
                    self._on_done(entry, answer)
                    failures = 0
                    continue
                if status is not None and 400 <= status < 500 and status not in _RETRY_4XX:
                    self._final(entry, status, answer)
                    continue
                self.outbox.failed(entry.key, f"{status}: {answer[:200]}")
                failures += 1
                await self._pause(min(0.2 * 2**failures, 5.0))
                break
