"""Per-hall operations settings, read from `halls.settings["operations"]` and the layout.

```
{"operations": {
   "case_working_days": 5,                 # 5, 7 or 15 (省 rules differ)
   "case_manager": "manager1",             # who new cases are assigned to (else unassigned)
   "rating": {"period_days": 7, "default_level": null},
   "booking": {"min_days_ahead": 1, "max_days_ahead": 5, "cancel_before_minutes": 120, ...},
   "alerts": {"waiting_per_window": 10, "longest_wait_minutes": 30, "pause_minutes": 30},
   "notify_ahead": 3,                      # tell a person with a phone when N are ahead (0 = off)
   "device_offline_seconds": 90,
   "calendar": {"2027": {"holidays": [...], "workdays": [...]}}
}}
```

Missing keys take the defaults; the appointment check-in tolerance defaults to the layout's
`rules.appointment_tolerance_minutes`, the service level to `rules.service_level_minutes`, the
region code (区划代码) to the layout's `hall.region_code`. A malformed value raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hall.core.queries import offline_seconds
from hall.operations.appointments.rules import BookingRules
from hall.operations.calendar import WorkingCalendar, china_calendar
from hall.operations.live.rules import AlertRules
from hall.operations.ratings.rules import RatingPolicy
from queueing.layout import HallLayout

__all__ = ["OpsConfig", "CASE_DAY_CHOICES", "rating_policy"]

CASE_DAY_CHOICES = (5, 7, 15)


@dataclass(frozen=True)
class OpsConfig:
    tz: ZoneInfo
    calendar: WorkingCalendar
    case_working_days: int
    case_manager: str | None
    rating: RatingPolicy
    booking: BookingRules
    alerts: AlertRules
    region_code: str
    service_level_seconds: float
    notify_ahead: int
    device_offline_seconds: float

    @classmethod
    def build(cls, layout: HallLayout, settings: Mapping[str, Any] | None) -> OpsConfig:
        raw: dict[str, Any] = dict((settings or {}).get("operations") or {})
        days = int(raw.get("case_working_days", 5))
        if days not in CASE_DAY_CHOICES:
            raise ValueError(f"case_working_days must be one of {CASE_DAY_CHOICES}")
        booking = dict(raw.get("booking") or {})
        booking.setdefault("late_minutes", int(layout.rules.appointment_tolerance_minutes))
        booking.setdefault("early_minutes", max(30, int(layout.rules.appointment_tolerance_minutes)))
        rating = dict(raw.get("rating") or {})
        return cls(
            tz=ZoneInfo(layout.timezone),
            calendar=china_calendar(raw.get("calendar")),
            case_working_days=days,
            case_manager=raw.get("case_manager"),
            rating=RatingPolicy(
                period_days=float(rating.get("period_days", 7)),
                default_level=rating.get("default_level"),
            ),
            booking=BookingRules.from_settings(booking),
            alerts=AlertRules.from_settings(raw.get("alerts")),
            region_code=str(raw.get("region_code") or layout.region_code or ""),
            service_level_seconds=float(layout.rules.service_level_minutes) * 60.0,
            notify_ahead=int(raw.get("notify_ahead", 3)),
            device_offline_seconds=offline_seconds(settings),
        )


def rating_policy(hall: Any) -> RatingPolicy:
    """The hall's 好差评 policy (rating period, default level) for the server's rating path;
    the defaults when the hall's operations settings are malformed (never raises)."""
    try:
        return OpsConfig.build(hall.layout, hall.settings).rating
    except (ValueError, TypeError):
        return RatingPolicy()
