"""Hall operations: 好差评 rules and 差评整改 cases, appointments, alerts, statistics, exports.

Seams used by hall.app (the operations work fills them in):
- `operation_routes()` — HTTP routes and pages of this package, mounted by the app factory;
- `start_background(state)` — background tasks started by the app's lifespan (reading the events
  table by sequence: cases from `ticket.rated`, webhooks, alerts); cancelled at shutdown.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.routing import BaseRoute

__all__ = ["operation_routes", "start_background"]


def operation_routes() -> list[BaseRoute]:
    return []


async def start_background(state: Any) -> list[asyncio.Task[Any]]:
    return []
