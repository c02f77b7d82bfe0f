"""Wait estimates with a stated range, and a score of how good they were.

The model: with `c` windows serving a ticket's queue and `k` people ahead, the ticket is called
at the (k − idle + 1)-th service completion. Completions of c busy windows arrive about every
m / c minutes (m = recent mean service time), with the spread of the service times (coefficient
of variation cv). The time to the n-th completion is taken as a gamma variable with mean n·m/c
and variance n·(m/c)²·cv² — exact for exponential service (cv = 1), and the central-limit shape
otherwise — whose median and 90th percentile are the p50 and p90 we print.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from queueing.layout import HallLayout

__all__ = ["Estimate", "estimate_wait", "competing_categories", "service_stats", "score_estimates"]

_Z50 = 0.0
_Z90 = NormalDist().inv_cdf(0.9)


@dataclass(frozen=True, slots=True)
class Estimate:
    ahead: int
    p50_minutes: float
    p90_minutes: float

    def to_dict(self) -> dict[str, float | int]:
        return {"ahead": self.ahead, "p50_minutes": self.p50_minutes, "p90_minutes": self.p90_minutes}


def _gamma_quantile(shape: float, scale: float, z: float) -> float:
    # Wilson–Hilferty: accurate to a few percent for shape ≥ 1, which is the range we use.
    if shape <= 0:
        return 0.0
    t = 1.0 - 1.0 / (9.0 * shape) + z * math.sqrt(1.0 / (9.0 * shape))
    return max(0.0, shape * scale * t**3)


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
    n = ahead - idle_windows + 1
    step = service_minutes / windows
    cv2 = max(cv, 0.05) ** 2
    shape = n / cv2
    scale = step * cv2
    # The first completion of a busy window comes after its *residual* service (about half).
    offset = -0.5 * step if ahead >= 1 else 0.0
    p50 = max(0.0, _gamma_quantile(shape, scale, _Z50) + offset)
    p90 = max(p50, _gamma_quantile(shape, scale, _Z90) + offset)
    return Estimate(ahead, round(p50, 1), round(p90, 1))


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


def score_estimates(pairs: Iterable[tuple[Estimate, float]]) -> dict[str, float | int | None]:
    """Score estimates against the waits that happened (minutes).

    A good estimator has about half the actual waits under p50 and about 90% under p90.
    """
    n = under50 = under90 = 0
    abs_err = 0.0
    for est, actual in pairs:
        n += 1
        under50 += actual <= est.p50_minutes
        under90 += actual <= est.p90_minutes
        abs_err += abs(actual - est.p50_minutes)
    if not n:
        return {"count": 0, "share_under_p50": None, "share_under_p90": None, "mean_abs_error_minutes": None}
    return {
        "count": n,
        "share_under_p50": under50 / n,
        "share_under_p90": under90 / n,
        "mean_abs_error_minutes": abs_err / n,
    }
