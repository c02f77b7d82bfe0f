"""Statistics of a small hand-made day equal hand-computed values."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hall.operations.stats.rules import CaseFact, StatEvent, compute

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=TZ).timestamp()
ZONES = {"A": "Z1", "B": "Z2"}


def ev(tid: int, kind: str, at: float, window: int | None = None, user: str | None = None, **data: object) -> StatEvent:
    return StatEvent(tid, kind, T0 + at, data, window, user)


def hand_made_day() -> list[StatEvent]:
    return [
        ev(1, "ticket.issued", 0, category="A", zone="Z1"),
        ev(2, "ticket.issued", 60, category="A", zone="Z1"),
        ev(3, "ticket.issued", 120, category="B", zone="Z2"),
        ev(1, "ticket.called", 300, 1, "u1"),
        ev(1, "ticket.started", 360, 1, "u1"),
        ev(3, "ticket.called", 600, 2, "u2"),
        ev(3, "ticket.no_show", 780, 2, "u2"),
        ev(1, "ticket.finished", 960, 1, "u1"),
        ev(2, "ticket.called", 960, 1, "u1"),
        ev(2, "ticket.started", 1000, 1, "u1"),
        ev(2, "ticket.finished", 1600, 1, "u1"),
        ev(4, "ticket.issued", 3700, category="B", zone="Z2"),
        ev(5, "ticket.issued", 3800, category="A", zone="Z1"),
        ev(4, "ticket.called", 4000, 2, "u2"),
        ev(4, "ticket.started", 4000, 2, "u2"),
        ev(4, "ticket.transferred", 4300, 2, "u2", to_category="A"),
        ev(4, "ticket.called", 4600, 2, "u2"),
        ev(4, "ticket.started", 4600, 2, "u2"),
        ev(4, "ticket.finished", 5000, 2, "u2"),
        ev(5, "ticket.cancelled", 5000),
    ]


def rows_by(rows: list[dict[str, object]]) -> dict[tuple[object, object], dict[str, object]]:
    return {(r["dimension"], r["key"]): r for r in rows}


def test_day_row_equals_hand_computed_values() -> None:
    rows = rows_by(compute(
        "2026-03-03", hand_made_day(), TZ, ZONES, ratings={1: 5, 2: 1},
        cases=[CaseFact(2, closed_on_time=True)], staff_names={"u1": "张三"}, within_seconds=900,
    ))
    day = rows[("day", "2026-03-03")]
    assert day["tickets"] == 5 and day["served"] == 3
    # Waits 300, 900, 480, 600 (T4 waited 300 + 300 after its transfer).
    assert day["wait_mean"] == 570.0
    assert day["wait_p90"] == pytest.approx(810.0, rel=1e-12)
    assert day["wait_max"] == 900.0
    # Service 600, 600, 700 (T4: 300 before the transfer + 400 after).
    assert day["service_mean"] == pytest.approx(1900 / 3, rel=1e-12)
    assert day["service_p90"] == pytest.approx(680.0, rel=1e-12)
    # 4 served within 15 min; T5 left after 20 min and counts against.
    assert day["service_level"] == 0.8
    assert (day["no_shows"], day["transfers"], day["suspensions"]) == (1, 1, 0)
    assert (day["ratings"], day["bad_ratings"], day["satisfaction"]) == (2, 1, 0.5)
    assert (day["cases"], day["cases_on_time"]) == (1, 1)


def test_rows_per_hour_window_staff_category() -> None:
    rows = rows_by(compute("2026-03-03", hand_made_day(), TZ, ZONES, {1: 5, 2: 1}, staff_names={"u1": "张三"}))
    assert rows[("hour", "09")]["tickets"] == 3 and rows[("hour", "10")]["tickets"] == 2
    assert rows[("window", "1")]["served"] == 2 and rows[("window", "1")]["wait_mean"] == 600.0
    assert rows[("window", "2")]["tickets"] == 1  # the no-show was never started: no window
    assert rows[("staff", "张三")]["satisfaction"] == 0.5
    assert rows[("category", "A")]["tickets"] == 3 and rows[("category", "B")]["no_shows"] == 1
    assert rows[("zone", "Z2")]["transfers"] == 1
    assert [r["dimension"] for r in compute("2026-03-03", [], TZ, ZONES, {})] == ["day"]
