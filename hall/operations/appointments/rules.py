"""预约 rules, pure: who may book which slot, cancel, and what a check-in becomes.

Per-hall rules (hall settings `operations.booking`):
- book from `min_days_ahead` to `max_days_ahead` working days ahead (default 1–5), counted on the
  hall's working calendar from today (hall-local);
- one booking per person (ID number, else phone) per day;
- cancel at least `cancel_before_minutes` (default 120) before the slot starts;
- check-in from `early_minutes` before the slot starts until `late_minutes` after it starts is
  on time → a ticket with appointment priority (queue class `appointment`); later than that
  the person is a walk-in (`late`), earlier is refused (`too_early`, come back later).
- A booking never checked in by slot start + `late_minutes` is a no-show.
- Slots: a bookable working day with no slots of a category gets them from the opening hours
  (the category's own, else the hall's), `slot_minutes` long with `slot_capacity` places each
  (defaults 30 and 2); a manager resizes or closes them (capacity 0) on /ops/{hall}/slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hall.operations.calendar import WorkingCalendar

__all__ = [
    "BookingRules",
    "BookingRefused",
    "CheckIn",
    "check_booking",
    "check_cancel",
    "check_in_kind",
    "is_no_show",
    "bookable_days",
]


@dataclass(frozen=True)
class BookingRules:
    min_days_ahead: int = 1
    max_days_ahead: int = 5
    one_per_person_per_day: bool = True
    cancel_before_minutes: int = 120
    early_minutes: int = 30
    late_minutes: int = 15
    slot_minutes: int = 30
    slot_capacity: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.min_days_ahead <= self.max_days_ahead:
            raise ValueError("need 0 <= min_days_ahead <= max_days_ahead")
        if self.cancel_before_minutes < 0 or self.early_minutes < 0 or self.late_minutes < 0:
            raise ValueError("minutes must be >= 0")
        if self.slot_minutes < 5 or self.slot_capacity < 0:
            raise ValueError("slot_minutes must be >= 5 and slot_capacity >= 0")

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any] | None) -> BookingRules:
        """Rules from a hall's settings dict; unknown keys raise ValueError."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown booking rule(s): {', '.join(sorted(unknown))}")
        return cls(**raw)


class BookingRefused(ValueError):
    """`code`: too_soon, too_far, not_working_day, slot_closed, slot_full, slot_over, one_per_day,
    too_late_to_cancel, not_booked, too_early."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CheckIn(StrEnum):
    ON_TIME = "on_time"  # appointment priority
    LATE = "late"  # becomes a walk-in


def _local_day(instant: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(instant, tz).date()


def bookable_days(rules: BookingRules, calendar: WorkingCalendar, now: float, tz: ZoneInfo) -> list[date]:
    """The working days a person may book today, nearest first."""
    today = _local_day(now, tz)
    days = [today] if rules.min_days_ahead == 0 and calendar.is_working_day(today) else []
    start = max(rules.min_days_ahead, 1)
    days += [calendar.add_working_days(today, n) for n in range(start, rules.max_days_ahead + 1)]
    return days


def check_booking(
    rules: BookingRules,
    calendar: WorkingCalendar,
    tz: ZoneInfo,
    now: float,
    slot_start: float,
    slot_capacity: int,
    slot_booked: int,
    person_booked_that_day: bool,
) -> None:
    """Raise BookingRefused unless this person may book this slot now."""
    if slot_start <= now:
        raise BookingRefused("slot_over", "该时段已开始或已结束")
    today = _local_day(now, tz)
    day = _local_day(slot_start, tz)
    if not calendar.is_working_day(day):
        raise BookingRefused("not_working_day", "该日不是工作日")
    ahead = calendar.working_days_between(today, day)
    if ahead < rules.min_days_ahead:
        raise BookingRefused("too_soon", f"须至少提前{rules.min_days_ahead}个工作日预约")
    if ahead > rules.max_days_ahead:
        raise BookingRefused("too_far", f"最多可预约{rules.max_days_ahead}个工作日内的时段")
    if slot_capacity <= 0:
        raise BookingRefused("slot_closed", "该时段已停止预约")
    if slot_booked >= slot_capacity:
        raise BookingRefused("slot_full", "该时段已约满")
    if rules.one_per_person_per_day and person_booked_that_day:
        raise BookingRefused("one_per_day", "同一人同一天只能预约一次")


def check_cancel(rules: BookingRules, now: float, slot_start: float, status: str) -> None:
    """Raise BookingRefused unless a booking in `status` may be cancelled now."""
    if status != "booked":
        raise BookingRefused("not_booked", "该预约不可取消")
    if now > slot_start - rules.cancel_before_minutes * 60:
        raise BookingRefused(
            "too_late_to_cancel", f"须在预约时段开始前{rules.cancel_before_minutes}分钟取消"
        )


def check_in_kind(rules: BookingRules, now: float, slot_start: float) -> CheckIn:
    """What a check-in at `now` becomes; raises BookingRefused('too_early')."""
    if now < slot_start - rules.early_minutes * 60:
        raise BookingRefused("too_early", f"请于预约时段开始前{rules.early_minutes}分钟内签到")
    if now <= slot_start + rules.late_minutes * 60:
        return CheckIn.ON_TIME
    return CheckIn.LATE


def is_no_show(rules: BookingRules, now: float, slot_start: float, status: str) -> bool:
    """A booking never checked in once its check-in window has closed."""
    return status == "booked" and now > slot_start + rules.late_minutes * 60
