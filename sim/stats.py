"""Confidence intervals across replications (days), with no dependency beyond the standard library.

Replications are independent, so a statistic's 95% interval is mean ± t(0.975, n-1) · s / √n.
Paired comparisons (common random numbers) use the same rule on per-day differences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["t_quantile", "mean_ci", "estimate", "paired_difference", "variance"]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes, Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log(1.0 - x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    x = df / (df + t * t)
    tail = 0.5 * _betai(df / 2.0, 0.5, x)
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t with `df` degrees of freedom (bisection on the exact CDF)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    lo, hi = -1e4, 1e4
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def variance(values: Sequence[float]) -> float:
    """Sample variance (n - 1); 0 for fewer than two values."""
    n = len(values)
    if n < 2:
        return 0.0
    m = sum(values) / n
    return sum((v - m) ** 2 for v in values) / (n - 1)


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi) of the t interval; with one value the interval is that value itself.

    NaN values (a day where a statistic is undefined, e.g. nobody served) are left out.
    """
    vals = [v for v in values if not math.isnan(v)]
    n = len(vals)
    if n == 0:
        return math.nan, math.nan, math.nan
    m = sum(vals) / n
    if n == 1:
        return m, m, m
    half = t_quantile(0.5 + level / 2, n - 1) * math.sqrt(variance(vals) / n)
    return m, m - half, m + half


def estimate(values: Sequence[float], level: float = 0.95, lo: float = -math.inf,
             hi: float = math.inf) -> dict[str, object]:
    """`{"value": mean, "ci95": [lo, hi]}` as the JSON outputs carry it (rounded to 6 places).

    The interval is clipped to [`lo`, `hi`], what the quantity can be: a t interval around a
    share near 1 would otherwise promise a service level above 100%.
    """
    m, a, b = mean_ci(values, level)
    if not math.isnan(a):
        a, b = min(max(a, lo), hi), min(max(b, lo), hi)
    return {"value": _r(m), "ci95": [_r(a), _r(b)]}


def paired_difference(a: Sequence[float], b: Sequence[float],
                      level: float = 0.95) -> dict[str, object]:
    """Mean of a[i] - b[i] with its interval; the pairs must be runs on the same seeds."""
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    out = estimate(diffs, level)
    out["variance"] = _r(variance(diffs))
    return out


def _r(x: float) -> float | None:
    if math.isnan(x):
        return None
    return round(x, 6)
