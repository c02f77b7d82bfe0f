"""Working-day calendar: weekends, holidays, 调休 make-up days, deadlines."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hall.operations.calendar import CalendarError, china_calendar, parse_years

TZ = ZoneInfo("Asia/Shanghai")


def test_weekend_holiday_and_makeup_day() -> None:
    cal = china_calendar()
    assert cal.is_working_day(date(2026, 3, 2))  # Monday
    assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 10, 5))  # 国庆, a Monday
    assert cal.is_working_day(date(2026, 10, 10))  # 调休: Saturday worked
    assert cal.is_working_day(date(2026, 2, 14))  # 调休 before 春节
    assert not cal.is_working_day(date(2026, 2, 16))  # 春节, a Monday


def test_five_days_across_plain_weekend() -> None:
    cal = china_calendar()
    # Friday 2026-03-06 + 5 working days -> Friday 2026-03-13.
    assert cal.add_working_days(date(2026, 3, 6), 5) == date(2026, 3, 13)


def test_deadline_across_holiday_and_makeup_day() -> None:
    cal = china_calendar()
    # Opened Tue 2026-09-29: 30 Sep (1), Oct 1-7 holiday, Thu 8 (2), Fri 9 (3),
    # Sat 10 is 调休 (4), Mon 12 (5).
    assert cal.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)
    # 7 days: Tue 13 (6), Wed 14 (7).
    assert cal.add_working_days(date(2026, 9, 29), 7) == date(2026, 10, 14)
    # 15 days from Tuesday 2026-02-10: 11,12,13, Sat 14 调休 (4), holiday 15-23, 24,25,26,27 (8),
    # Sat 28 调休 (9), Mar 2-6 (14), Mar 9 (15).
    assert cal.add_working_days(date(2026, 2, 10), 15) == date(2026, 3, 9)


def test_deadline_instant_is_end_of_due_day_in_hall_zone() -> None:
    cal = china_calendar()
    opened = datetime(2026, 3, 6, 16, 0, tzinfo=TZ).timestamp()
    due = cal.deadline(opened, 5, TZ)
    assert datetime.fromtimestamp(due, TZ) == datetime(2026, 3, 14, 0, 0, tzinfo=TZ)


def test_working_days_between_counts_only_working_days() -> None:
    cal = china_calendar()
    assert cal.working_days_between(date(2026, 9, 29), date(2026, 10, 12)) == 5
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 6)) == 0


def test_zero_days_rolls_to_next_working_day() -> None:
    cal = china_calendar()
    assert cal.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 10, 8), 0) == date(2026, 10, 8)


def test_2027_statutory_days_and_override() -> None:
    cal = china_calendar()
    assert not cal.is_working_day(date(2027, 6, 9))  # 端午, a Wednesday
    assert cal.years[2027].provisional
    cal2 = china_calendar({"2027": {"holidays": ["2027-06-09"], "workdays": ["2027-06-12"]}})
    assert cal2.is_working_day(date(2027, 6, 12))
    assert not cal2.years[2027].provisional


def test_strict_calendar_refuses_unknown_year_and_bad_data() -> None:
    with pytest.raises(CalendarError):
        china_calendar(strict=True).is_working_day(date(2031, 1, 2))
    with pytest.raises(CalendarError):
        parse_years({"2026": {"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}})
    with pytest.raises(CalendarError):
        parse_years({"2026": {"holidays": ["2027-01-01"]}})
