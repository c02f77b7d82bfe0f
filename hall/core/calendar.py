"""The hall's working calendar: weekends, public holidays and 调休 make-up working days.

A day is a working day when it is a weekday and not a holiday, or when it is listed as a make-up
working day (调休上班, usually a Saturday or Sunday). Holidays and make-up days are configured per
year; mainland China 2026 and 2027 ship in `calendar_cn.json` (2027 is provisional until the
State Council publishes its notice — a hall's settings may override any year).

Deadlines of 差评整改 count working days *after* the day the case opened: a case opened on a
Friday with 5 working days is due at the end of the next Friday (ignoring holidays).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["WorkingCalendar", "YearPlan", "china_calendar", "hall_calendar", "CalendarError", "parse_years"]


class CalendarError(ValueError):
    """A calendar definition is malformed, or a date lies outside the configured years."""


@dataclass(frozen=True)
class YearPlan:
    """One year's holidays and make-up working days."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    provisional: bool = False


WEEKDAYS = (1, 2, 3, 4, 5)  # ISO weekdays, Monday to Friday


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of a hall.

    `strict=True` raises `CalendarError` for a date in a year with no plan (so a forgotten year
    is noticed rather than silently treated as weekends only); the default falls back to plain
    weekends for such years.
    """

    years: Mapping[int, YearPlan] = field(default_factory=dict)
    strict: bool = False

    def plan(self, year: int) -> YearPlan | None:
        plan = self.years.get(year)
        if plan is None and self.strict:
            raise CalendarError(f"no holiday plan configured for {year}")
        return plan

    def is_working_day(self, day: date, weekdays: Collection[int] = WEEKDAYS) -> bool:
        """A make-up working day (调休) works, a public holiday does not; otherwise the day works
        when its ISO weekday is one of `weekdays` (Monday to Friday unless a hall says more)."""
        plan = self.plan(day.year)
        if plan is not None:
            if day in plan.workdays:
                return True
            if day in plan.holidays:
                return False
        return day.isoweekday() in weekdays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself never counts); n >= 0.

        With n == 0 the answer is `start` when it is a working day, else the next working day.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end] — how many deadline days have been used by `end`."""
        if end <= start:
            return 0
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def deadline(self, opened_at: float, working_days: int, tz: ZoneInfo) -> float:
        """Epoch instant a case opened at `opened_at` is due: end of the n-th working day after.

        End of day = the next midnight in the hall's zone, so anything done on the due day is on
        time.
        """
        opened_day = datetime.fromtimestamp(opened_at, tz).date()
        due_day = self.add_working_days(opened_day, working_days)
        end = datetime.combine(due_day + timedelta(days=1), time(0), tz)
        return end.timestamp()

    def with_years(self, overrides: Mapping[int, YearPlan]) -> WorkingCalendar:
        """A copy where the given years replace the shipped ones."""
        merged = dict(self.years)
        merged.update(overrides)
        return WorkingCalendar(years=merged, strict=self.strict)


def _dates(values: Iterable[Any], where: str) -> frozenset[date]:
    out: set[date] = set()
    for value in values:
        try:
            out.add(date.fromisoformat(str(value)))
        except ValueError as exc:
            raise CalendarError(f"{where}: not a date: {value!r}") from exc
    return frozenset(out)


def parse_years(data: Mapping[str, Any]) -> dict[int, YearPlan]:
    """Parse `{"2026": {"holidays": [...], "workdays": [...], "provisional": bool}}`.

    Raises CalendarError when a date is malformed, sits in the wrong year, or is both a holiday
    and a make-up working day.
    """
    years: dict[int, YearPlan] = {}
    for key, spec in data.items():
        try:
            year = int(key)
        except ValueError as exc:
            raise CalendarError(f"years: not a year: {key!r}") from exc
        holidays = _dates(spec.get("holidays", []), f"{year}.holidays")
        workdays = _dates(spec.get("workdays", []), f"{year}.workdays")
        wrong = [d for d in holidays | workdays if d.year != year]
        if wrong:
            raise CalendarError(f"{year}: dates of another year: {sorted(wrong)[0]}")
        both = holidays & workdays
        if both:
            raise CalendarError(f"{year}: both holiday and workday: {sorted(both)[0]}")
        years[year] = YearPlan(holidays, workdays, bool(spec.get("provisional", False)))
    return years


@lru_cache(maxsize=1)
def _shipped_years() -> dict[int, YearPlan]:
    raw = resources.files("hall.core").joinpath("calendar_cn.json").read_text("utf-8")
    return parse_years(json.loads(raw)["years"])


def china_calendar(overrides: Mapping[str, Any] | None = None, strict: bool = False) -> WorkingCalendar:
    """Mainland China calendar from the shipped data, with optional per-year overrides."""
    years = dict(_shipped_years())
    if overrides:
        years.update(parse_years(overrides))
    return WorkingCalendar(years=years, strict=strict)


def hall_calendar(settings: Mapping[str, Any] | None) -> WorkingCalendar:
    """A hall's calendar: the shipped one with the hall's `operations.calendar` overrides (a
    malformed override is ignored here: the settings API refuses it before it is stored)."""
    overrides = ((settings or {}).get("operations") or {}).get("calendar")
    if not overrides:
        return _shipped_calendar()
    try:
        return china_calendar(overrides)
    except (CalendarError, AttributeError, TypeError):
        return _shipped_calendar()


@lru_cache(maxsize=1)
def _shipped_calendar() -> WorkingCalendar:
    return china_calendar()
