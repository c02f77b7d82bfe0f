"""Hands ID numbers read by serial card readers to the kiosk page on the same PC.

The bridge listens on loopback only (`ws://127.0.0.1:8766/?kiosk=kiosk-1`); the kiosk page, or a
small script beside it, connects and receives `{"type": "hall.idcard", "kiosk", "id_number"}` —
the message displays/static/js/kiosk.js already accepts. Numbers are personal data: they are
never logged, never stored and never sent to the server by the bridge.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve

__all__ = ["IdCardHub"]

log = logging.getLogger(__name__)


class IdCardHub:
    """`await run()` serves until cancelled; `publish` is synchronous and never blocks."""

    def __init__(self, listen: str = "127.0.0.1:8766") -> None:
        host, _, port = listen.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self._clients: dict[ServerConnection, str | None] = {}
        self.ready = asyncio.Event()

    async def run(self) -> None:
        async with serve(self._handler, self.host, self.port) as server:
            self.port = server.sockets[0].getsockname()[1] if self.port == 0 else self.port
            self.ready.set()
            await asyncio.Future()

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        kiosks = parse_qs(urlsplit(path).query).get("kiosk")
        kiosk = kiosks[0] if kiosks else None
        self._clients[ws] = kiosk
        try:
            await ws.wait_closed()
        finally:
            self._clients.pop(ws, None)

    def publish(self, kiosk: str, id_number: str) -> int:
        """Send to the pages of `kiosk` (and to those that named none); returns how many."""
        targets = [ws for ws, k in self._clients.items() if k in (None, kiosk)]
        broadcast(targets, json.dumps({"type": "hall.idcard", "kiosk": kiosk, "id_number": id_number}))
        log.info("ID card read at %s, handed to %d page(s)", kiosk, len(targets))
        return len(targets)
