"""What the bridge does besides painting boards: print kiosk tickets and play call audio.

Both are driven by events of the device stream and fetch what they need over the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from hardware.config import BridgeConfig, PrinterConfig
from hardware.hallstate import HallState
from hardware.printing import TicketJob, render_ticket, send_to_target
from hardware.serialbus import SerialBus

__all__ = ["print_issued", "play_calls", "people_time"]

log = logging.getLogger(__name__)


async def print_issued(
    http: httpx.AsyncClient,
    config: BridgeConfig,
    state: HallState,
    printer: PrinterConfig,
    bus: SerialBus | None,
    msg: dict[str, Any],
) -> bool:
    """Print the ticket of a `ticket.issued` envelope on `printer` (on `bus`, or its file or
    network target). People ahead and the estimate are the ones the kiosk was told, carried by
    the event (`ahead`, `estimate`); an event without them (an older server) asks
    `GET …/tickets/{id}`, and without an answer the ticket is printed without them. Returns
    False when the printer failed."""
    data = msg.get("data") or {}
    ahead: int | None = data.get("ahead") if isinstance(data.get("ahead"), int) else None
    given = data.get("estimate") if isinstance(data.get("estimate"), dict) else None
    if ahead is None:
        try:
            r = await http.get(f"/api/halls/{config.hall}/tickets/{data.get('id')}")
            if r.status_code == 200:
                info = r.json()
                ahead = int(info["ahead"]) if isinstance(info.get("ahead"), int) else None
                got = info.get("estimate") or info.get("eta")
                given = got if isinstance(got, dict) else None
        except httpx.HTTPError as exc:
            log.info("ticket %s details unavailable, printing without estimate: %s", data.get("id"), exc)
    eta = given.get("p50_minutes") if given is not None else None
    job = TicketJob(
        hall_name=state.hall_name,
        category_name=state.categories.get(str(data.get("category")), str(data.get("category", ""))),
        number=str(data.get("number", "")),
        ahead=ahead,
        eta_minutes=eta,
        issued_at=people_time(str(msg.get("at", ""))),
        # The server may give a path; phones need the address they can reach.
        qr_payload=urljoin(config.public_url or config.server, str(data.get("progress_url") or "")),
        no_window=given is not None and given.get("state") == "no_window",
        opens_at=people_time(str(given["next_open_at"])) if given and given.get("next_open_at") else None,
    )
    payload = render_ticket(job, printer.paper)
    if bus is not None:
        bus.send(payload)
        return True
    if printer.target:
        try:
            await asyncio.get_running_loop().run_in_executor(None, send_to_target, printer.target, payload)
        except OSError as exc:
            log.error("printer %s: %s", printer.kiosk, exc)
            return False
    return True


async def play_calls(http: httpx.AsyncClient, config: BridgeConfig, queue: asyncio.Queue[Any]) -> None:
    """Play each queued call's announcement with `config.audio_player`, one after another,
    never over each other (the queue is bounded: a backlog of old calls is not worth hearing)."""
    while True:
        ticket_id = await queue.get()
        path = ""
        try:
            r = await http.get(f"/api/halls/{config.hall}/calls/{ticket_id}/audio.wav")
            r.raise_for_status()
            fd, path = tempfile.mkstemp(suffix=".wav")
            with os.fdopen(fd, "wb") as fh:
                fh.write(r.content)
            proc = await asyncio.create_subprocess_exec(*config.audio_player, path)
            await proc.wait()
        except (httpx.HTTPError, OSError) as exc:
            log.warning("call audio for %s failed: %s", ticket_id, exc)
        finally:
            if path:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def people_time(at: str) -> str:
    """An ISO instant as people read it on a ticket (hall-local, to the minute)."""
    try:
        return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return at
