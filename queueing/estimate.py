"""Wait estimates with a stated range, and a score of how good they were.

The model: with `c` windows serving a ticket's queue (all busy) and `k` people ahead, the ticket
is called at the (k + 1)-th service completion. The first of them comes after the *residual*
service of the busy windows: each window is part-way through a service (mean m, coefficient of
variation cv, taken as a gamma variable), whose remaining time has the equilibrium residual law
— mean (1 + cv²)/2 · m — and the first completion is the smallest of c such residuals. The k
completions after it arrive about every m / c minutes with the spread of the service times: a
gamma variable with mean k·m/c and variance k·(m/c)²·cv². The wait is their sum; its median and
90th percentile are the p50 and p90 we print (the residual's own quantiles for k = 0, a gamma of
the sum's mean and variance otherwise). For exponential service this is exact: the smallest of c
exponential residuals is one step m/c, and the sum is the gamma of k + 1 steps.

An earlier version counted the first completion as a full step less half a step; that told the
people near the head of a queue too much (four in five waited less than its p50).

Known limit: with near-constant service at many windows, the next completions after the first
come sooner than m/c each (they are the other windows' residuals), so the p50 of a ticket a few
places back is a little long (tests/queueing/test_estimate_calibration.py: 0.58 under p50 at
cv 0.2 on 2 windows, about 0.65 at 8). The residual law is computed once per (windows, cv to
0.01) and cached: a millisecond or so the first time, microseconds after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

from queueing.layout import HallLayout

__all__ = ["Estimate", "estimate_wait", "competing_categories", "service_stats", "score_estimates"]

# Service spread the residual law is computed for: below 0.1 it is a uniform residual to within
# the rounding of the minutes we print, and the incomplete gamma series would only get slower.
_CV_RANGE = (0.1, 3.0)


@dataclass(frozen=True, slots=True)
class Estimate:
    ahead: int
    p50_minutes: float
    p90_minutes: float

    def to_dict(self) -> dict[str, float | int]:
        return {"ahead": self.ahead, "p50_minutes": self.p50_minutes, "p90_minutes": self.p90_minutes}


def _upper_gamma(a: float, x: float) -> float:
    """Q(a, x), the regularized upper incomplete gamma function (Numerical Recipes: the series
    below a + 1, the continued fraction above)."""
    if x <= 0.0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        for _ in range(2000):
            n += 1.0
            term *= x / n
            total += term
            if term < total * 1e-12:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 2000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return min(1.0, math.exp(log_front) * h)


def _residual_survival(x: float, cv: float) -> float:
    """P(residual > x) for a service of mean 1 and spread cv in progress at a random moment:
    E[(S − x)⁺] / E[S] for a gamma S of shape a = 1/cv², scale 1/a."""
    a = 1.0 / (cv * cv)
    return max(0.0, _upper_gamma(a + 1.0, a * x) - x * _upper_gamma(a, a * x))


def _bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """The root of a function increasing from lo to hi (f(lo) ≤ 0 ≤ f(hi))."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if f(mid) < 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-7 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True, slots=True)
class _FirstCompletion:
    """The time to the first completion of c busy windows, in units of the mean service."""

    mean: float
    var: float
    p50: float
    p90: float


@lru_cache(maxsize=1024)
def _first_completion(windows: float, cv: float) -> _FirstCompletion:
    def survival(x: float) -> float:
        return _residual_survival(x, cv) ** windows

    def quantile(q: float) -> float:
        # the residual is at most the service, whose tail is gamma: 60 means cover any cv we take
        return _bisect(lambda x: (1.0 - q) - survival(x), 0.0, 60.0)

    top = quantile(1.0 - 1e-9)
    steps = 256  # Simpson's rule on [0, top]: the moments to well under the printed 0.1 min
    h = top / steps
    m0 = m1 = 0.0
    for i in range(steps + 1):
        w = 1.0 if i in (0, steps) else (4.0 if i % 2 else 2.0)
        s = survival(i * h)
        m0 += w * s
        m1 += w * i * h * s
    mean = m0 * h / 3.0
    second = 2.0 * m1 * h / 3.0
    return _FirstCompletion(mean, max(second - mean * mean, 0.0), quantile(0.5), quantile(0.9))


def _gamma_quantile(mean: float, var: float, q: float) -> float:
    """The q-quantile of the gamma variable of this mean and variance."""
    shape, scale = mean * mean / var, var / mean
    if shape >= 1.0:  # Wilson–Hilferty: within about 1% from shape 1 on, and no iteration
        z = NormalDist().inv_cdf(q)
        t = 1.0 - 1.0 / (9.0 * shape) + z * math.sqrt(1.0 / (9.0 * shape))
        return max(0.0, shape * scale * t**3)
    hi = mean + 20.0 * math.sqrt(var)
    return _bisect(lambda x: (1.0 - _upper_gamma(shape, x / scale)) - q, 0.0, hi)


def estimate_wait(
    ahead: int,
    windows: float,
    service_minutes: float,
    *,
    cv: float = 1.0,
    idle_windows: int = 0,
) -> Estimate:
    """Estimate the wait of a ticket with `ahead` people before it.

    `windows`: open windows that serve its queue (fractional when shared with other queues);
    `service_minutes`, `cv`: recent mean service time and its coefficient of variation;
    `idle_windows`: windows free right now. With no open window the range is open-ended (inf).
    """
    if ahead < 0:
        raise ValueError("ahead must not be negative")
    if ahead < idle_windows:
        return Estimate(ahead, 0.0, 0.0)
    if windows <= 0:
        return Estimate(ahead, math.inf, math.inf)
    spread = min(max(cv, _CV_RANGE[0]), _CV_RANGE[1])
    first = _first_completion(round(windows, 2), round(spread, 2))
    k = ahead - idle_windows  # completions after the first one
    if k == 0:
        p50, p90 = first.p50, first.p90
    else:
        mean = first.mean + k / windows
        var = first.var + k * (spread / windows) ** 2
        p50, p90 = _gamma_quantile(mean, var, 0.5), _gamma_quantile(mean, var, 0.9)
    m = service_minutes
    return Estimate(ahead, round(p50 * m, 1), round(max(p90, p50) * m, 1))


def competing_categories(layout: HallLayout, category: str) -> frozenset[str]:
    """Categories whose tickets compete with this one for the same windows."""
    out: set[str] = {category}
    for w in layout.windows_serving(category):
        out |= w.categories
    return frozenset(out)


def service_stats(samples: Sequence[float], default_minutes: float) -> tuple[float, float]:
    """(mean, cv) of recent service minutes, falling back to the layout's figure (cv 1)."""
    xs = [x for x in samples if x > 0]
    if len(xs) < 5:
        return default_minutes, 1.0
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return mean, (math.sqrt(var) / mean) if mean > 0 else 1.0


def _under(actual: float, figure: float) -> float:
    return 1.0 if actual < figure else 0.5 if actual == figure else 0.0


def score_estimates(pairs: Iterable[tuple[Estimate, float]]) -> dict[str, float | int | None]:
    """Score estimates against the waits that happened (minutes).

    A good estimator has about half the actual waits under p50 and about 90% under p90.
    - "No wait" (p90 = 0: a free window) is a promise, not a spread: it is scored apart, as the
      share of those told so who were called at once (`no_wait_kept`); counted among the shares
      it would be "under" both figures whatever happened, and make a calibrated day look long.
    - A wait equal to a figure counts half (the mid-distribution convention): waits and figures
      are compared as people read them, in whole minutes, so ties are common.
    The mean absolute error is over every estimate.
    """
    n = spread = told_zero = kept = 0
    under50 = under90 = abs_err = 0.0
    for est, actual in pairs:
        n += 1
        abs_err += abs(actual - est.p50_minutes)
        if est.p90_minutes <= 0:
            told_zero += 1
            kept += actual <= 0
            continue
        spread += 1
        under50 += _under(actual, est.p50_minutes)
        under90 += _under(actual, est.p90_minutes)
    return {
        "count": n,
        "share_under_p50": under50 / spread if spread else None,
        "share_under_p90": under90 / spread if spread else None,
        "mean_abs_error_minutes": abs_err / n if n else None,
        "told_no_wait": told_zero,
        "no_wait_kept": kept / told_zero if told_zero else None,
    }
