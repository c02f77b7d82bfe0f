"""预约 rules (pure): days ahead on the working calendar, capacity, one per day, cancel, check-in."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hall.operations.appointments.rules import (
    BookingRefused,
    BookingRules,
    CheckIn,
    bookable_days,
    check_booking,
    check_cancel,
    check_in_kind,
    is_no_show,
)
from hall.operations.calendar import china_calendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = china_calendar()
RULES = BookingRules()


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).timestamp()


def refusal(now: float, start: float, booked: int = 0, person: bool = False) -> str:
    with pytest.raises(BookingRefused) as info:
        check_booking(RULES, CAL, TZ, now, start, 10, booked, person)
    return info.value.code


def test_book_one_to_five_working_days_ahead_across_holiday() -> None:
    now = at(2026, 9, 29, 10)  # Tuesday before 国庆
    # 30 Sep is 1 day ahead; Oct 1-7 holiday; Oct 8, 9, 10 (调休 Saturday), 12 are 2..5.
    assert bookable_days(RULES, CAL, now, TZ) == [
        date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)
    ]
    check_booking(RULES, CAL, TZ, now, at(2026, 10, 12), 10, 0, False)
    assert refusal(now, at(2026, 10, 13)) == "too_far"
    assert refusal(now, at(2026, 9, 29, 15)) == "too_soon"
    assert refusal(now, at(2026, 10, 5)) == "not_working_day"


def test_capacity_and_one_per_person_per_day() -> None:
    now = at(2026, 3, 2, 10)
    assert refusal(now, at(2026, 3, 3), booked=10) == "slot_full"
    assert refusal(now, at(2026, 3, 3), person=True) == "one_per_day"
    relaxed = BookingRules(one_per_person_per_day=False)
    check_booking(relaxed, CAL, TZ, now, at(2026, 3, 3), 10, 9, True)


def test_cancel_at_least_two_hours_before() -> None:
    start = at(2026, 3, 3, 9)
    check_cancel(RULES, start - 2 * 3600, start, "booked")
    with pytest.raises(BookingRefused) as info:
        check_cancel(RULES, start - 2 * 3600 + 1, start, "booked")
    assert info.value.code == "too_late_to_cancel"
    with pytest.raises(BookingRefused) as info:
        check_cancel(RULES, start - 5 * 3600, start, "cancelled")
    assert info.value.code == "not_booked"


def test_check_in_window_and_no_show() -> None:
    start = at(2026, 3, 3, 9)
    with pytest.raises(BookingRefused) as info:
        check_in_kind(RULES, start - 31 * 60, start)
    assert info.value.code == "too_early"
    assert check_in_kind(RULES, start - 30 * 60, start) is CheckIn.ON_TIME
    assert check_in_kind(RULES, start + 15 * 60, start) is CheckIn.ON_TIME
    assert check_in_kind(RULES, start + 15 * 60 + 1, start) is CheckIn.LATE
    assert not is_no_show(RULES, start + 15 * 60, start, "booked")
    assert is_no_show(RULES, start + 15 * 60 + 1, start, "booked")
    assert not is_no_show(RULES, start + 3600, start, "checked_in")


def test_rules_from_settings_refuse_unknown_keys() -> None:
    assert BookingRules.from_settings({"max_days_ahead": 3}).max_days_ahead == 3
    with pytest.raises(ValueError):
        BookingRules.from_settings({"max_days": 3})
    with pytest.raises(ValueError):
        BookingRules(min_days_ahead=4, max_days_ahead=2)
