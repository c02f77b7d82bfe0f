"""Routes of the server-rendered pages (owned by the displays work; mounted by hall.app)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def page_routes() -> list[BaseRoute]:
    """Routes for kiosk, screens, staff console, pad, mobile progress and manager pages."""
    return []
