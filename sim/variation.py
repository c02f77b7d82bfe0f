"""How a hall's demand varies from day to day: the calendar, overdispersion and forecast error.

A profile's `arrivals` describe an ordinary open day. The optional `[variation]` table says how
real days differ from it:

```toml
[variation]
weekday = { mon = 1.15, tue = 1.0, wed = 0.95, thu = 0.95, fri = 0.95, sat = 0, sun = 0 }
month_end = { last_days = 3, factor = 1.25 }      # 月底: the last 3 days of a month
periods = [ { name = "开学", from = "2026-08-25", to = "2026-09-05", factor = 1.3 } ]
overdispersion = 0.03     # gamma–Poisson: a day's volume × Gamma(mean 1, variance 0.03)
growth = 1.05             # next year's expected level against the profile's
forecast_error = 0.08     # sd of the level's log error (lognormal), for planning only
```

A day's expected volume is the profile × growth × weekday × month-end × period factors ×
a Gamma(1/k, k) draw (k = overdispersion), so daily counts have variance μ + kμ² instead of
Poisson's μ: real halls have busy and quiet days beyond Poisson noise, and a plan that ignores
them meets its target on the average day only. A weekday factor of 0 means the hall is shut;
simulated day d is the d-th open day from the profile's date.

`design_factor` is the design day a plan sizes for: the q-quantile of that multiplier (with the
forecast error) over a year of open days — "the 90th-percentile day".
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sim.staffing import DemandError

__all__ = ["Variation", "parse_variation", "WEEKDAYS", "design_factor", "DESIGN_DAYS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DESIGN_DAYS = ("profile", "p50", "p75", "p90", "p95", "weekdays")


@dataclass(frozen=True, slots=True)
class Period:
    name: str
    first: dt.date
    last: dt.date
    factor: float


@dataclass(frozen=True, slots=True)
class Variation:
    start: dt.date  # the profile's date: simulated day 0 is the first open day from here
    weekday: tuple[float, ...] = (1.0,) * 7
    month_end_days: int = 0
    month_end_factor: float = 1.0
    periods: tuple[Period, ...] = ()
    overdispersion: float = 0.0
    growth: float = 1.0
    forecast_error: float = 0.0

    def calendar_factor(self, date: dt.date) -> float:
        """The expected volume of `date` against the profile's (before the random parts)."""
        f = self.weekday[date.weekday()]
        if self.month_end_days > 0:
            nxt = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            if (nxt - date).days <= self.month_end_days:
                f *= self.month_end_factor
        for p in self.periods:
            if p.first <= date <= p.last:
                f *= p.factor
        return f * self.growth

    def date_of(self, day: int) -> dt.date:
        """The calendar date of simulated day `day` (open days only)."""
        return _open_dates(self, day + 1)[day]

    def day_factor(self, day: int, rng: random.Random) -> float:
        """Simulated day `day`'s volume multiplier: calendar × gamma (one draw from `rng`)."""
        cal = self.calendar_factor(self.date_of(day))
        k = self.overdispersion
        return cal * (rng.gammavariate(1.0 / k, k) if k > 0 else 1.0)


@lru_cache(maxsize=64)
def _open_dates_cached(v: Variation, n: int) -> tuple[dt.date, ...]:
    out: list[dt.date] = []
    d = v.start
    while len(out) < n:
        if v.calendar_factor(d) > 0:
            out.append(d)
        d += dt.timedelta(days=1)
    return tuple(out)


def _open_dates(v: Variation, n: int) -> tuple[dt.date, ...]:
    # grow in blocks so a run of many days does not rebuild the calendar for each one
    size = 64
    while size < n:
        size *= 2
    return _open_dates_cached(v, size)


def design_factor(v: Variation | None, rule: str, seed: int = 0) -> float:
    """The design day's volume against the profile's.

    "profile": the profile as written (× growth); "pQQ": the QQ-th percentile over a year of
    open days of calendar × gamma × forecast error (Monte Carlo, 400 draws a day, fixed seed);
    "weekdays": the busiest weekday's calendar level, so every weekday of the profile is met.
    """
    if rule not in DESIGN_DAYS:
        raise ValueError(f"design day: one of {', '.join(DESIGN_DAYS)}, got {rule!r}")
    if v is None:
        return 1.0
    if rule == "profile":
        return v.growth
    if rule == "weekdays":
        return max(w for w in v.weekday) * v.growth
    q = int(rule[1:]) / 100
    rng = random.Random(f"design-day|{seed}")
    k, s = v.overdispersion, v.forecast_error
    draws: list[float] = []
    for d in _year(v):
        cal = v.calendar_factor(d)
        for _ in range(400):
            g = rng.gammavariate(1.0 / k, k) if k > 0 else 1.0
            e = math.exp(rng.gauss(-s * s / 2, s)) if s > 0 else 1.0
            draws.append(cal * g * e)
    draws.sort()
    return draws[min(len(draws) - 1, int(q * len(draws)))]


def _year(v: Variation) -> list[dt.date]:
    return [d for d in (v.start + dt.timedelta(days=i) for i in range(365))
            if v.calendar_factor(d) > 0]


def parse_variation(raw: Any, start: dt.date) -> Variation | None:
    """The `[variation]` table (None when absent); raises DemandError naming the field."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise DemandError("variation", "must be a table")
    known = {"weekday", "month_end", "periods", "overdispersion", "growth", "forecast_error"}
    for key in raw:
        if key not in known:
            raise DemandError(f"variation.{key}", f"unknown field (one of {', '.join(sorted(known))})")
    wd_raw = raw.get("weekday", {})
    if not isinstance(wd_raw, Mapping):
        raise DemandError("variation.weekday", "must be a table {mon = 1.1, …}")
    weekday = [1.0] * 7
    for key, value in wd_raw.items():
        if key not in WEEKDAYS:
            raise DemandError(f"variation.weekday.{key}", f"unknown day (one of {', '.join(WEEKDAYS)})")
        weekday[WEEKDAYS.index(key)] = _factor(value, f"variation.weekday.{key}", zero_ok=True)
    if not any(w > 0 for w in weekday):
        raise DemandError("variation.weekday", "the hall must be open on at least one day")
    me_days, me_factor = 0, 1.0
    me = raw.get("month_end")
    if me is not None:
        if not isinstance(me, Mapping):
            raise DemandError("variation.month_end", "must be a table {last_days, factor}")
        days = me.get("last_days", 3)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 15:
            raise DemandError("variation.month_end.last_days", "must be a whole number 0..15")
        me_days, me_factor = days, _factor(me.get("factor", 1.0), "variation.month_end.factor")
    periods = []
    p_raw = raw.get("periods", [])
    if not isinstance(p_raw, list):
        raise DemandError("variation.periods", "must be a list of {name, from, to, factor}")
    for i, p in enumerate(p_raw):
        here = f"variation.periods[{i}]"
        if not isinstance(p, Mapping):
            raise DemandError(here, "must be a table {name, from, to, factor}")
        first, last = _date(p.get("from"), f"{here}.from"), _date(p.get("to"), f"{here}.to")
        if last < first:
            raise DemandError(f"{here}.to", "must not be before from")
        periods.append(Period(str(p.get("name", "")), first, last,
                              _factor(p.get("factor"), f"{here}.factor")))
    k = _nonneg(raw.get("overdispersion", 0.0), "variation.overdispersion")
    if k > 4:
        raise DemandError("variation.overdispersion", f"must be at most 4 (a variance), got {k}")
    return Variation(start, tuple(weekday), me_days, me_factor, tuple(periods), k,
                     _factor(raw.get("growth", 1.0), "variation.growth"),
                     _nonneg(raw.get("forecast_error", 0.0), "variation.forecast_error"))


def _nonneg(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DemandError(where, f"must be a number at least 0, got {value!r}")
    return float(value)


def _factor(value: Any, where: str, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (
            value == 0 and not zero_ok) or value > 100:
        raise DemandError(where, f"must be a factor {'0' if zero_ok else 'above 0'}..100, got {value!r}")
    return float(value)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DemandError(where, f"{value!r} is not a date YYYY-MM-DD") from None
