"""Time distributions of a demand profile (service, patience), parsed from TOML tables.

A table names `dist` and its parameters in minutes; sampling returns seconds:

    {dist = "lognormal", mean_minutes = 12, cv = 0.6}     # the default family for service
    {dist = "exponential", mean_minutes = 10}
    {dist = "gamma", mean_minutes = 12, cv = 0.5}
    {dist = "deterministic", minutes = 8}
    {dist = "empirical", minutes = [4.5, 7, 12.25, …]}     # resampled uniformly (bootstrap)

A bare number means lognormal with that mean and cv 0.6 (a typical counter service). Errors raise
`DemandError(field, why)` from `sim.demand` via the `where` argument.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Dist", "parse_dist", "DistError", "DEFAULT_CV"]

DEFAULT_CV = 0.6


class DistError(ValueError):
    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


@dataclass(frozen=True, slots=True)
class Dist:
    """A positive time distribution; `sample(rng)` gives seconds."""

    kind: str
    mean: float  # seconds
    cv: float  # coefficient of variation
    sample: Callable[[random.Random], float]
    values: tuple[float, ...] = ()  # empirical only, seconds

    def sample_many(self, rng: random.Random, n: int) -> list[float]:
        """n draws, the same as n calls of `sample` in a row (only faster)."""
        kind = self.kind
        if kind == "exponential":
            ex, rate = rng.expovariate, 1.0 / self.mean
            return [ex(rate) for _ in range(n)]
        if kind == "lognormal":
            sigma2 = math.log1p(self.cv * self.cv)
            mu, sigma = math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)
            lv = rng.lognormvariate
            return [lv(mu, sigma) for _ in range(n)]
        sample = self.sample
        return [sample(rng) for _ in range(n)]

    @property
    def cv2(self) -> float:
        return self.cv * self.cv

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "empirical":
            return {"dist": "empirical", "minutes": [round(v / 60, 4) for v in self.values]}
        if self.kind == "deterministic":
            return {"dist": "deterministic", "minutes": round(self.mean / 60, 4)}
        out: dict[str, Any] = {"dist": self.kind, "mean_minutes": round(self.mean / 60, 4)}
        if self.kind in ("lognormal", "gamma", "weibull"):
            out["cv"] = round(self.cv, 4)
        return out


def exponential(mean_seconds: float) -> Dist:
    rate = 1.0 / mean_seconds

    def sample(rng: random.Random) -> float:
        return rng.expovariate(rate)

    return Dist("exponential", mean_seconds, 1.0, sample)


def lognormal(mean_seconds: float, cv: float) -> Dist:
    sigma2 = math.log1p(cv * cv)
    sigma = math.sqrt(sigma2)
    mu = math.log(mean_seconds) - sigma2 / 2

    def sample(rng: random.Random) -> float:
        return rng.lognormvariate(mu, sigma)

    return Dist("lognormal", mean_seconds, cv, sample)


def gamma(mean_seconds: float, cv: float) -> Dist:
    shape = 1.0 / (cv * cv)
    scale = mean_seconds / shape

    def sample(rng: random.Random) -> float:
        return rng.gammavariate(shape, scale)

    return Dist("gamma", mean_seconds, cv, sample)


def weibull_shape(cv: float) -> float:
    """The Weibull shape k whose coefficient of variation is `cv` (bisection on log k)."""
    def cv_of(k: float) -> float:
        g1, g2 = math.gamma(1 + 1 / k), math.gamma(1 + 2 / k)
        return math.sqrt(max(g2 / (g1 * g1) - 1, 0.0))

    lo, hi = math.log(0.05), math.log(50.0)  # cv decreases as k grows
    for _ in range(80):
        mid = (lo + hi) / 2
        if cv_of(math.exp(mid)) > cv:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def weibull(mean_seconds: float, cv: float) -> Dist:
    k = weibull_shape(cv)
    scale = mean_seconds / math.gamma(1 + 1 / k)

    def sample(rng: random.Random) -> float:
        return rng.weibullvariate(scale, k)

    return Dist("weibull", mean_seconds, cv, sample)


def deterministic(seconds: float) -> Dist:
    def sample(rng: random.Random) -> float:
        rng.random()  # keep one draw per person so streams stay aligned across families
        return seconds

    return Dist("deterministic", seconds, 0.0, sample)


def empirical(values_seconds: tuple[float, ...]) -> Dist:
    n = len(values_seconds)
    m = sum(values_seconds) / n
    var = sum((v - m) ** 2 for v in values_seconds) / max(n - 1, 1)
    vals = values_seconds

    def sample(rng: random.Random) -> float:
        return vals[int(rng.random() * n)]

    return Dist("empirical", m, math.sqrt(var) / m if m > 0 else 0.0, sample, vals)


def _positive(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DistError(f"{where}.{key}", "must be a number")
    if not value > 0:
        raise DistError(f"{where}.{key}", f"must be more than 0, got {value}")
    return float(value)


def parse_dist(raw: Any, where: str, default_kind: str = "lognormal") -> Dist:
    """Parse a distribution table (or a bare mean in minutes); raises DistError naming `where`."""
    if isinstance(raw, bool):
        raise DistError(where, "must be a number of minutes or a {dist = …} table")
    if isinstance(raw, int | float):
        raw = {"dist": default_kind, "mean_minutes": raw}
    if not isinstance(raw, Mapping):
        raise DistError(where, "must be a number of minutes or a {dist = …} table")
    kind = raw.get("dist", default_kind)
    if kind == "exponential":
        return exponential(60 * _positive(raw, "mean_minutes", where))
    if kind in ("lognormal", "gamma", "weibull"):
        mean = 60 * _positive(raw, "mean_minutes", where)
        cv = _positive(raw, "cv", where) if "cv" in raw else DEFAULT_CV
        if kind == "weibull" and not 0.05 <= cv <= 20:
            raise DistError(f"{where}.cv", f"a Weibull cv must be between 0.05 and 20, got {cv}")
        return {"lognormal": lognormal, "gamma": gamma, "weibull": weibull}[kind](mean, cv)
    if kind == "deterministic":
        key = "minutes" if "minutes" in raw else "mean_minutes"
        return deterministic(60 * _positive(raw, key, where))
    if kind == "empirical":
        values = raw.get("minutes")
        if not isinstance(values, list) or not values:
            raise DistError(f"{where}.minutes", "must be a non-empty list of minutes")
        out = []
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise DistError(f"{where}.minutes[{i}]", "must be a number more than 0")
            out.append(60.0 * v)
        return empirical(tuple(out))
    raise DistError(f"{where}.dist", f"unknown distribution {kind!r} "
                    "(lognormal, exponential, gamma, weibull, deterministic, empirical)")
