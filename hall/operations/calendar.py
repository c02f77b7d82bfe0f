"""The hall's working calendar, for operations (差评整改 deadlines, booking days).

It lives in hall.core.calendar because issuing needs it too (a hall is closed on a holiday);
this name stays so operations code and its tests read as before.
"""

from __future__ import annotations

from hall.core.calendar import CalendarError, WorkingCalendar, YearPlan, china_calendar, parse_years

__all__ = ["WorkingCalendar", "YearPlan", "china_calendar", "CalendarError", "parse_years"]
