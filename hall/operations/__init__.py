"""Hall operations: 好差评 rules and 差评整改 cases, appointments, alerts, statistics, exports.

Seams used by hall.app:
- `operation_routes()` — the operations JSON API (hall.operations.routes) and manager pages
  (hall.operations.views), mounted by the app factory;
- `start_background(state)` — the operations loop (hall.operations.background): cases from
  `ticket.rated` events read by seq, default ratings, no-shows, alerts, person notifications,
  webhooks; and the forecast task (hall.operations.forecast.worker), which keeps each hall's
  latest forecast in `state.forecasts`. A deployment sets `state.notifier` (SMS/WeChat adapter) before the lifespan starts
  the loop, or gets the logging default. Cancelled by the app at shutdown.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from starlette.routing import BaseRoute

from hall.edge.templates import Templates
from hall.operations import routes, views
from hall.operations.accuracy.lookup import FreshForecasts, RecordedForecasts
from hall.operations.background import OperationsLoop
from hall.operations.city.api import city_routes
from hall.operations.forecast.worker import ForecastLoop
from hall.operations.ratings.qr_api import qr_routes
from hall.operations.replication.api import ReplicaGuard, replication_routes
from hall.operations.replication.ship import Shipper

__all__ = ["operation_routes", "start_background", "ReplicaGuard"]


def operation_routes(templates: Templates) -> list[BaseRoute]:
    return [*routes.api_routes(), *views.page_routes(templates), *city_routes(templates), *qr_routes(templates),
            *replication_routes()]


async def start_background(state: Any, app: Any = None) -> list[asyncio.Task[Any]]:
    # HALL_OPS_INTERVAL: seconds between rounds of the loop (default 5).
    interval = float(getattr(state, "operations_interval", None) or os.environ.get("HALL_OPS_INTERVAL") or 5.0)
    loop = OperationsLoop(state, getattr(state, "notifier", None), interval=interval)
    state.operations = loop  # tests and the CLI can run `await state.operations.once()`
    tasks = [asyncio.create_task(loop.run(), name="hall-operations")]
    # HALL_FORECAST_INTERVAL: seconds between forecasts (default: the hall's, else 180);
    # HALL_FORECAST_DELAY: before the first one (default 10)
    # the latest forecasts, each also recorded for its scoring; issuing reads the fresh one
    state.forecasts = RecordedForecasts(state)
    state.ticket_forecasts = FreshForecasts(state.forecasts)
    every = os.environ.get("HALL_FORECAST_INTERVAL")
    ahead = ForecastLoop(state, state.forecasts, interval=float(every) if every else None,
                         first_delay=float(os.environ.get("HALL_FORECAST_DELAY") or 10.0))
    state.forecast = ahead  # `await state.forecast.once()` recomputes now
    tasks.append(asyncio.create_task(ahead.run(), name="hall-forecast"))
    if state.settings.city_url and app is not None:
        # A site server: its halls replicate to the city (HALL_REPLICATION_INTERVAL, default 1 s).
        shipper = Shipper(state, app, state.settings.city_url, state.settings.city_token,
                          interval=float(os.environ.get("HALL_REPLICATION_INTERVAL") or 1.0),
                          batch=int(os.environ.get("HALL_REPLICATION_BATCH") or 500))
        state.shipper = shipper
        tasks.append(asyncio.create_task(shipper.run(), name="hall-replication"))
    return tasks
