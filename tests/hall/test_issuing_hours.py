"""Opening hours, lunch break, working days and a category's own hours, enforced when issuing;
the estimate says when windows open again; a transfer to an unstaffed window warns the clerk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hall.core.calendar import china_calendar
from hall.core.hours import OpenState, opening
from hall.store.models import TicketRow
from queueing.layout import parse_layout
from tests.hall.conftest import TINY

TZ = ZoneInfo("Asia/Shanghai")
API = "/api/halls/tiny"
# The issue's layout: mornings only; 社保 (B) stops giving numbers at 11:00.
HOURS = """
[hours]
periods = [["08:30", "12:00"]]
weekdays = [1, 2, 3, 4, 5]
"""
TINY_HOURS = TINY.replace("[rules]", HOURS.strip() + "\n\n[rules]", 1).replace(
    "daily_cap = 3", 'daily_cap = 3\nhours = { periods = [["08:30", "11:00"]] }', 1
)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return datetime(y, mo, d, h, mi, tzinfo=TZ).timestamp()


def iso(instant: float) -> str:
    return datetime.fromtimestamp(instant, TZ).isoformat(timespec="milliseconds")


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY_HOURS, encoding="utf-8")
    return p


def _layout(text: str) -> Any:
    import tomllib

    return parse_layout(tomllib.loads(text))


def test_opening_states_and_next_opening() -> None:
    layout = _layout(TINY.replace("[rules]", '[hours]\nperiods = [["08:30", "12:00"], ["14:00", "17:30"]]\n\n[rules]'))
    cal = china_calendar()
    monday = (2026, 11, 23)
    cases = [
        (at(*monday, 7, 0), OpenState.NOT_OPEN_YET, at(*monday, 8, 30)),
        (at(*monday, 9, 0), OpenState.OPEN, None),
        (at(*monday, 12, 30), OpenState.LUNCH_BREAK, at(*monday, 14, 0)),
        (at(*monday, 17, 30), OpenState.CLOSED_FOR_TODAY, at(2026, 11, 24, 8, 30)),
        (at(2026, 11, 28, 10, 0), OpenState.NOT_WORKING_DAY, at(2026, 11, 30, 8, 30)),  # a Saturday
        # 国庆: 1–7 October 2026 are holidays, the 8th a Thursday at work.
        (at(2026, 10, 1, 10, 0), OpenState.NOT_WORKING_DAY, at(2026, 10, 8, 8, 30)),
    ]
    for now, state, nxt in cases:
        got = opening(layout, "A", now, cal)
        assert (got.state, got.next_open) == (state, nxt), datetime.fromtimestamp(now, TZ)


def test_a_layout_without_hours_gives_numbers_around_the_clock_but_a_category_keeps_its_own() -> None:
    layout = _layout(TINY.replace("daily_cap = 3", 'hours = { periods = [["09:00", "11:00"]] }', 1))
    cal = china_calendar()
    assert opening(layout, "A", at(2026, 11, 23, 3, 0), cal).is_open
    assert opening(layout, "A", at(2026, 11, 28, 22, 0), cal).is_open
    closed = opening(layout, "B", at(2026, 11, 23, 11, 30), cal)
    assert closed.state is OpenState.CLOSED_FOR_TODAY and closed.next_open == at(2026, 11, 24, 9, 0)


def _tickets(hall: Any) -> int:
    with hall.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(TicketRow)).scalar_one())


def test_issuing_after_closing_time_is_refused_and_changes_nothing(hall) -> None:
    hall.clock.set(at(2026, 11, 23, 14, 50))  # the issue's kiosk, tapped at 14:50
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "closed_for_today"
    assert body["next_open_at"] == iso(at(2026, 11, 24, 8, 30))
    assert body["booking_url"] == "/book/tiny"
    assert _tickets(hall) == 0
    hall.clock.set(at(2026, 11, 24, 8, 29))
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
    assert r.status_code == 409 and r.json()["error"] == "not_open_yet"
    assert r.json()["next_open_at"] == iso(at(2026, 11, 24, 8, 30))
    hall.clock.set(at(2026, 11, 24, 8, 30))
    assert hall.issue("A")["number"] == "A001"  # nothing refused took a number


def test_a_category_closes_at_its_own_time_and_a_holiday_gives_no_numbers(hall) -> None:
    hall.clock.set(at(2026, 11, 23, 11, 5))
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "B", "channel": "kiosk"})
    assert r.status_code == 409 and r.json()["error"] == "closed_for_today"
    assert hall.issue("A")["number"] == "A001"  # the hall itself is open until 12:00
    hall.clock.set(at(2026, 10, 2, 9, 0))
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
    assert r.status_code == 409 and r.json()["error"] == "not_working_day"


def test_the_daily_cap_says_when_numbers_are_given_again(hall) -> None:
    for _ in range(3):
        hall.issue("B")
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "B", "channel": "kiosk"})
    assert r.status_code == 409 and r.json()["error"] == "daily_cap"
    assert r.json()["next_open_at"] == iso(at(2026, 11, 24, 8, 30))
    assert r.json()["booking_url"] == "/book/tiny"


def test_the_estimate_of_a_ticket_nobody_can_call_says_when_windows_open_again(hall) -> None:
    hall.clock.set(at(2026, 11, 23, 11, 55))
    t = hall.issue("A")
    assert t["estimate"]["state"] == "no_window" and "next_open_at" not in t["estimate"]
    hall.clock.set(at(2026, 11, 23, 12, 10))  # the hall closed at 12:00 with the ticket waiting
    got = hall.client.get(f"/api/progress/{t['progress_token']}").json()["estimate"]
    assert got["state"] == "no_window" and got["next_open_at"] == iso(at(2026, 11, 24, 8, 30))


def test_a_transfer_to_an_unstaffed_window_warns_the_clerk(hall) -> None:
    assert hall.post(f"{API}/windows/1/sign-in").status_code == 200
    t = hall.issue("A")
    r = hall.post(f"{API}/tickets/{t['id']}/transfer", json={"window": 2})
    assert r.status_code == 200, r.text
    assert r.json()["warning"] == "no_window" and r.json()["estimate"]["state"] == "no_window"
    t2 = hall.issue("A")
    r = hall.post(f"{API}/tickets/{t2['id']}/transfer", json={"window": 1})
    assert "warning" not in r.json() and r.json()["estimate"]["state"] == "ok"
