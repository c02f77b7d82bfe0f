"""A visit recorded at the window (村/社区便民服务站): the person is already in front of the clerk,
so the ticket is issued, called to this window and started in one hall transaction. The visit
still gets the day's number (一次一评 and statistics count it like any ticket); whether a slip
is printed is the console's choice."""

from __future__ import annotations

from typing import Any

from hall.core.calling import call_next, window_action
from hall.core.estimate import ForecastSource
from hall.core.issuing import IssueRequest, issue_ticket
from hall.core.tickets import load_window
from hall.core.tx import HallTx
from hall.errors import conflict
from hall.security.crypto import PersonalData

__all__ = ["record_visit"]


def record_visit(tx: HallTx, number: int, req: IssueRequest, crypto: PersonalData,
                 forecasts: ForecastSource | None = None) -> tuple[int, dict[str, Any]]:
    """POST …/windows/{w}/visit {category | matters, …}: 201 with the ticket being served; its
    estimate is the one issuing gives (`forecasts`: the hall's latest forecast, if fresh)."""
    tx.hall.window(number)  # KeyError → 404 by the caller's window lookup
    win = load_window(tx, number)
    if win.current_ticket_id is not None:
        raise conflict("window_busy", f"window {number} is serving a visit: finish it first")
    if win.paused:
        raise conflict("window_paused", f"window {number} is paused: resume it first")
    _, issued = issue_ticket(tx, req, crypto, forecasts=forecasts)
    call_next(tx, number, int(issued["id"]))
    _, started = window_action(tx, number, "start")
    return 201, {**issued, "window": number, "ticket": started["ticket"]}
