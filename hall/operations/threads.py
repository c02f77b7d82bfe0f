"""Running blocking database work from the background loop without abandoning it on cancel.

The app cancels the operations task at shutdown and then disposes the database engine. A plain
`await anyio.to_thread.run_sync(fn)` raises CancelledError at once on a native task cancel while
the worker thread goes on with its connection — which then outlives the engine (on PostgreSQL an
open session that can even deadlock with a test dropping its schema). `finish_in_thread` lets a
started statement finish, then passes the cancellation on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio

__all__ = ["finish_in_thread"]

T = TypeVar("T")


async def finish_in_thread(fn: Callable[[], T]) -> T:
    """`fn()` in a worker thread; on cancellation, wait for it to end, then re-raise."""
    inner = asyncio.ensure_future(anyio.to_thread.run_sync(fn))
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        await asyncio.wait([inner])
        raise
