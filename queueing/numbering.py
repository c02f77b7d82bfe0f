"""Ticket numbers: per hall, per hall-local day, per printed prefix (A001, YA012, A1000).

Days are the hall's local calendar days (Asia/Shanghai by default), never UTC days: a hall in
UTC+8 starts its day at 16:00 UTC of the day before.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from queueing.layout import Rules
from queueing.tickets import QueueClass

__all__ = [
    "hall_day",
    "day_start",
    "minute_of_day",
    "printed_prefix",
    "format_number",
    "NumberBook",
]


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def hall_day(instant: float, tz: str) -> date:
    """The hall-local calendar day of an instant."""
    return datetime.fromtimestamp(instant, _zone(tz)).date()


def day_start(day: date, tz: str) -> float:
    """The instant the hall-local day begins (local midnight)."""
    return datetime.combine(day, time(0), _zone(tz)).timestamp()


def minute_of_day(instant: float, tz: str) -> float:
    """Minutes since hall-local midnight (for opening hours)."""
    local = datetime.fromtimestamp(instant, _zone(tz))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return (local - midnight) / timedelta(minutes=1)


def printed_prefix(category: str, klass: QueueClass | str, rules: Rules) -> str:
    """The prefix a ticket prints: YA for an appointment, VA for priority, A otherwise."""
    if klass == QueueClass.APPOINTMENT:
        return rules.appointment_marker + category
    if klass == QueueClass.PRIORITY:
        return rules.priority_marker + category
    return category


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: the number grows rather than wraps."""
    if seq < 1:
        raise ValueError("ticket sequence numbers start at 1")
    return f"{prefix}{seq:03d}"


class NumberBook:
    """In-memory counters per (hall-local day, printed prefix), for the simulator and tests.

    The server keeps the same counters in a table, incremented inside the issuing transaction.
    """

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self._counters: defaultdict[tuple[date, str], int] = defaultdict(int)

    def next(self, prefix: str, instant: float) -> str:
        key = (hall_day(instant, self.tz), prefix)
        self._counters[key] += 1
        return format_number(prefix, self._counters[key])
