"""Day-to-day variation fitted from tickets per recorded day (`[variation]`).

Estimators (stated):

- **Ordinary days** are those neither in the month-end window nor in a named period. Weekday
  factors are each weekday's mean count over ordinary days divided by the mean count of all
  recorded days (the fitted profile's arrivals are the all-days mean, so factor × profile is
  that weekday's ordinary level). A weekday never seen gets 1 (0 only if no day of it was seen
  while the hall was recorded on the others — a hall shut that day).
- **Month-end** (月底): the last `MONTH_END_DAYS` days of a month (the profile's default). Its
  factor is Σ count / Σ expected over the recorded month-end days outside periods, expected
  being the day's weekday level — the ratio estimator, the MLE of a common factor for Poisson
  counts. Fitted from at least `MIN_SPECIAL_DAYS` such days, otherwise left out.
- **Periods** (开学, 节前 …) cannot be told from noise by the log alone, so their dates are given
  (`calibrate(..., periods=[(name, from, to)])`) and each factor is fitted the same way over
  the recorded days inside it (expected: weekday level × month-end factor where it applies).
- **Overdispersion** k by moments on ordinary days: E[(n − μ)²] = μ + kμ² for a day of
  expected count μ (its weekday's ordinary mean), corrected for μ being estimated from the same
  days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

__all__ = ["fit_variation", "parse_period", "is_month_end", "MIN_DAYS_FOR_VARIATION", "MONTH_END_DAYS", "MIN_SPECIAL_DAYS"]

MIN_DAYS_FOR_VARIATION = 10
MONTH_END_DAYS = 3
MIN_SPECIAL_DAYS = 2
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

PeriodSpec = tuple[str, dt.date, dt.date]


def parse_period(text: str) -> PeriodSpec:
    """"NAME:FROM:TO" (dates YYYY-MM-DD) as a period to fit; raises ValueError saying why."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise ValueError(f"--period {text!r}: expected NAME:YYYY-MM-DD:YYYY-MM-DD")
    try:
        first, last = dt.date.fromisoformat(parts[1]), dt.date.fromisoformat(parts[2])
    except ValueError:
        raise ValueError(f"--period {text!r}: dates must be YYYY-MM-DD") from None
    if last < first:
        raise ValueError(f"--period {text!r}: TO is before FROM")
    return parts[0], first, last


def is_month_end(d: dt.date, last_days: int = MONTH_END_DAYS) -> bool:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - d).days <= last_days


def fit_variation(daily: Sequence[tuple[dt.date, int]],
                  periods: Sequence[PeriodSpec] = ()) -> dict[str, Any] | None:
    """`[variation]` from tickets per recorded day (None: fewer than MIN_DAYS_FOR_VARIATION)."""
    if len(daily) < MIN_DAYS_FOR_VARIATION:
        return None
    overall = sum(n for _, n in daily) / len(daily)
    if overall <= 0:
        return None

    def in_period(d: dt.date) -> bool:
        return any(a <= d <= b for _, a, b in periods)

    ordinary = [(d, n) for d, n in daily if not is_month_end(d) and not in_period(d)]
    base = ordinary if len(ordinary) >= MIN_DAYS_FOR_VARIATION // 2 else list(daily)
    by_wd: dict[int, list[int]] = {}
    for d, n in base:
        by_wd.setdefault(d.weekday(), []).append(n)
    seen_wd = {d.weekday() for d, _ in daily}
    level = {w: sum(c) / len(c) for w, c in by_wd.items()}
    fallback = sum(n for _, n in base) / len(base)

    def expected(d: dt.date) -> float:
        return level.get(d.weekday(), fallback)

    # a weekday never recorded is a day the hall is shut (0); one seen only on special days
    # gets the ordinary mean level
    weekday = {_WEEKDAYS[w]: (round(level[w] / overall, 4) if w in level
                              else round(fallback / overall, 4) if w in seen_wd else 0.0)
               for w in range(7)}
    out: dict[str, Any] = {"weekday": weekday}
    me_days = [(d, n) for d, n in daily if is_month_end(d) and not in_period(d)]
    me_factor = 1.0
    if len(me_days) >= MIN_SPECIAL_DAYS and base is ordinary:
        me_factor = sum(n for _, n in me_days) / sum(expected(d) for d, _ in me_days)
        out["month_end"] = {"last_days": MONTH_END_DAYS, "factor": round(me_factor, 4)}
    fitted_periods = []
    for name, a, b in periods:
        inside = [(d, n) for d, n in daily if a <= d <= b]
        if len(inside) < MIN_SPECIAL_DAYS:
            continue
        exp = sum(expected(d) * (me_factor if is_month_end(d) else 1.0) for d, _ in inside)
        fitted_periods.append({"name": name, "from": a.isoformat(), "to": b.isoformat(),
                               "factor": round(sum(n for _, n in inside) / exp, 4)})
    if fitted_periods:
        out["periods"] = fitted_periods
    num = den = 0.0
    for counts in by_wd.values():
        m = len(counts)
        if m < 2:
            continue
        mu = sum(counts) / m
        # E[(n - mean)^2] = (mu + k mu^2)(1 - 1/m) when the mean is the sample mean of m days
        num += sum((n - mu) ** 2 for n in counts) / (1 - 1 / m) - m * mu
        den += m * mu * mu
    out["overdispersion"] = round(max(0.0, num / den) if den > 0 else 0.0, 5)
    return out
