"""When a hall (or one category) gives numbers: its opening periods, lunch break and working days.

A layout that states `[hours]` is held to them; a layout without it (tests, a quick trial) gives
numbers around the clock, since the parser's default hours are a planning assumption, not a
hall's decision. A category's own `hours` always apply to it. Working days are the layout's
`weekdays` less public holidays, plus the 调休 make-up working days of the hall's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from hall.core.calendar import WorkingCalendar
from queueing.layout import HallLayout, Hours

__all__ = ["OpenState", "Opening", "hours_for", "open_day", "opening"]

_LOOK_AHEAD_DAYS = 31  # the longest run of closed days a calendar gives (Spring Festival + weekends)


class OpenState(StrEnum):
    """Whether numbers are given now; each closed state is also the 409 code issuing answers."""

    OPEN = "open"
    NOT_OPEN_YET = "not_open_yet"  # 未到取号时间: a working day, before the first period
    LUNCH_BREAK = "lunch_break"  # 午休: between two periods
    CLOSED_FOR_TODAY = "closed_for_today"  # 今日已停止取号: after the last period
    NOT_WORKING_DAY = "not_working_day"  # weekend or public holiday


@dataclass(frozen=True, slots=True)
class Opening:
    state: OpenState
    next_open: float | None  # the next instant numbers are given (None: open now, or none found)

    @property
    def is_open(self) -> bool:
        return self.state is OpenState.OPEN


def hours_for(layout: HallLayout, category: str | None) -> Hours | None:
    """The hours that bind `category` (its own, else the hall's stated ones); None: no limit."""
    if category is not None:
        try:
            own = layout.category(category).hours
        except KeyError:
            own = None
        if own is not None:
            return own
    return layout.hours if "hours" in layout.source else None


def open_day(hours: Hours, day: date, calendar: WorkingCalendar) -> bool:
    """Whether `hours` open at all on `day`: its weekdays less holidays, plus make-up working days."""
    return calendar.is_working_day(day, hours.weekdays)


def _at(day: date, minute: int, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(minute // 60, minute % 60), tz).timestamp()


def opening(layout: HallLayout, category: str | None, now: float, calendar: WorkingCalendar) -> Opening:
    """Whether `category` gets numbers at `now`, and if not, why and when it next does."""
    hours = hours_for(layout, category)
    if hours is None:
        return Opening(OpenState.OPEN, None)
    tz = layout.tz
    local = datetime.fromtimestamp(now, tz)
    today = local.date()
    minute = local.hour * 60 + local.minute + local.second / 60
    if open_day(hours, today, calendar):
        if hours.is_open(minute):
            return Opening(OpenState.OPEN, None)
        later = [p.start for p in hours.periods if p.start > minute]
        if later:
            state = OpenState.NOT_OPEN_YET if minute < hours.opens else OpenState.LUNCH_BREAK
            return Opening(state, _at(today, later[0], tz))
        state = OpenState.CLOSED_FOR_TODAY
    else:
        state = OpenState.NOT_WORKING_DAY
    for n in range(1, _LOOK_AHEAD_DAYS + 1):
        day = today + timedelta(days=n)
        if open_day(hours, day, calendar):
            return Opening(state, _at(day, hours.opens, tz))
    return Opening(state, None)
