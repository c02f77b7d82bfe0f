"""Test harness: emulators on linked ptys, the fake server and a bridge wired together."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from hardware.bridge import Bridge
from hardware.config import parse_config
from tests.hardware.fakeserver import TOKEN


async def until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll `predicate` on the event loop; raise AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def bridge_config(tmp_path: Path, server_url: str, buses: list[dict[str, Any]], **bridge: Any) -> dict[str, Any]:
    opts = {"outbox": str(tmp_path / "outbox.db"), "frame_gap_ms": 5, "reopen_s": 0.3, "heartbeat_s": 30, "backoff_max_s": 0.5}
    opts |= bridge
    return {"server": {"url": server_url, "hall": "h1", "token": TOKEN}, "bridge": opts, "bus": buses}


@contextlib.asynccontextmanager
async def running_bridge(raw: dict[str, Any]) -> AsyncIterator[Bridge]:
    bridge = Bridge(parse_config(raw, environ={}))
    task = asyncio.create_task(bridge.run())
    try:
        yield bridge
    finally:
        bridge.stop()
        await asyncio.wait_for(task, 10)
