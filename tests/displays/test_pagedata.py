"""The read-only data behind the staff console and the manager view (hall.http.pagedata), on SQLite."""

from __future__ import annotations

import pytest

from hall.errors import ApiError
from hall.http.pagedata import (
    called_ticket,
    live_summary,
    progress_hall,
    window_console,
    zone_names,
)
from tests.displays.conftest import Hall
from tests.e2e.pages_harness import HALL


def test_console_lists_what_the_window_can_serve_in_queue_order(hall: Hall) -> None:
    with hall.db.read() as conn:
        data = window_console(conn, HALL, 1, hall.staff, now=hall.now)
    assert [t["number"] for t in data["waiting"]] == ["A001", "A002", "B002"]
    assert data["waiting_total"] == 3
    assert data["waiting"][0]["waited_seconds"] == pytest.approx(600)
    assert data["suspended"] == [{"id": data["suspended"][0]["id"], "number": "A003", "category": "A",
                                  "kind": "holding"}]
    assert data["today"] == {"called": 2, "finished": 1, "no_show": 1, "transferred": 0, "suspended": 0}
    assert [(t["number"], t["window"]) for t in data["no_show"]] == [("F002", 8)]  # any window may take it back
    assert data["current"]["number"] == "A004"
    assert data["current"]["reason"]["rule"] == "queue_key"


def test_console_needs_a_token_and_a_real_window(hall: Hall) -> None:
    with hall.db.read() as conn:
        with pytest.raises(ApiError) as no_token:
            window_console(conn, HALL, 1, "", now=hall.now)
        with pytest.raises(ApiError) as bad_window:
            window_console(conn, HALL, 77, hall.staff, now=hall.now)
        with pytest.raises(ApiError) as bad_hall:
            window_console(conn, "nowhere", 1, hall.staff, now=hall.now)
    assert (no_token.value.status, bad_window.value.status, bad_hall.value.status) == (401, 404, 404)


def test_live_summary_for_the_manager(hall: Hall) -> None:
    with hall.db.read() as conn:
        data = live_summary(conn, HALL, hall.manager, now=hall.now)
    assert data["longest_wait"]["number"] == "B001"
    assert data["longest_wait"]["waited_seconds"] == pytest.approx(1200)
    assert data["longest_by_category"] == pytest.approx({"A": 600, "B": 1200, "F": 900})
    assert data["window_since"]["1"] == pytest.approx(hall.now - 100)
    assert data["window_since"]["2"] == pytest.approx(hall.now - 50)
    # Called today: A004 after 1400 s, A005 and F002 after 1000 s; none within 15 minutes.
    assert data["service_level"] == {"within_minutes": 15.0, "share": 0.0, "count": 3, "abandoned": 0}
    with hall.db.read() as conn:
        loose = live_summary(conn, HALL, hall.manager, now=hall.now, within_minutes=20)
    assert loose["service_level"]["share"] == pytest.approx(2 / 3)
    offline = {(d["kind"], d["name"]) for d in data["devices_offline"]}
    assert offline == {("screen", "大厅综合屏"), ("led", "led-8")}  # led-1 came back; the pad reports


def test_live_summary_is_for_managers_only(hall: Hall) -> None:
    with hall.db.read() as conn, pytest.raises(ApiError) as refused:
        live_summary(conn, HALL, hall.staff, now=hall.now)
    assert refused.value.status == 403


def test_small_lookups(hall: Hall) -> None:
    with hall.db.read() as conn:
        assert zone_names(conn, HALL) == {"service": "综合服务区", "police": "公安服务区"}
        assert zone_names(conn, "nowhere") == {}
        assert progress_hall(conn, "tok-A001") == HALL
        assert progress_hall(conn, "nope") is None
        a4 = window_console(conn, HALL, 1, hall.staff, now=hall.now)["current"]["id"]
        assert called_ticket(conn, HALL, a4) == ("A004", 1)
        waiting = window_console(conn, HALL, 1, hall.staff, now=hall.now)["waiting"][0]["id"]
        assert called_ticket(conn, HALL, waiting) is None  # never called: nothing to announce
        assert called_ticket(conn, "nowhere", a4) is None
