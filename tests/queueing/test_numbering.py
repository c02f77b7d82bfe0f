from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from queueing.layout import Rules
from queueing.numbering import (
    NumberBook,
    day_start,
    format_number,
    hall_day,
    minute_of_day,
    printed_prefix,
)
from queueing.tickets import QueueClass


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_numbers_grow_past_999_instead_of_wrapping():
    assert format_number("A", 1) == "A001"
    assert format_number("A", 999) == "A999"
    assert format_number("A", 1000) == "A1000"
    with pytest.raises(ValueError):
        format_number("A", 0)


def test_markers_give_each_printed_prefix_its_own_counter():
    rules = Rules()
    assert printed_prefix("A", QueueClass.APPOINTMENT, rules) == "YA"
    assert printed_prefix("A", QueueClass.PRIORITY, rules) == "VA"
    book = NumberBook("Asia/Shanghai")
    t = utc(2026, 11, 23, 1, 0)
    assert [book.next("A", t), book.next("YA", t), book.next("A", t)] == ["A001", "YA001", "A002"]


def test_the_day_restarts_at_hall_local_midnight_not_utc_midnight():
    # Shanghai is UTC+8: its day of 24 Nov begins at 16:00 UTC on 23 Nov.
    before = utc(2026, 11, 23, 15, 59, 59)
    after = utc(2026, 11, 23, 16, 0, 1)
    assert hall_day(before, "Asia/Shanghai") == date(2026, 11, 23)
    assert hall_day(after, "Asia/Shanghai") == date(2026, 11, 24)
    book = NumberBook("Asia/Shanghai")
    assert book.next("A", before) == "A001"
    assert book.next("A", before + 0.5) == "A002"
    assert book.next("A", after) == "A001"  # a new hall day, though still 23 Nov in UTC
    # …and a UTC midnight inside the hall's day does not restart it.
    next_morning = utc(2026, 11, 24, 23, 59, 59)  # 07:59:59 on 25 Nov in Shanghai
    assert book.next("A", utc(2026, 11, 24, 0, 0, 1)) == "A002"  # 08:00 on 24 Nov, same hall day
    assert hall_day(next_morning, "Asia/Shanghai") == date(2026, 11, 25)


def test_day_start_and_minute_of_day():
    start = day_start(date(2026, 11, 24), "Asia/Shanghai")
    assert start == utc(2026, 11, 23, 16, 0)
    assert minute_of_day(start + 8.5 * 3600, "Asia/Shanghai") == 510
