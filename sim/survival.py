"""Patience from censored waits: Kaplan–Meier and parametric fits, the better chosen by AIC.

Everyone who waited tells something about their patience T: a person who left after waiting a
has T = a (an event); a person called after waiting w has T > w (right-censored). Taking only
the first kind, or dividing total waiting by abandonments as for an exponential law, gets a
lognormal hall badly wrong (its long right tail is all censored). Here:

- `kaplan_meier` is the non-parametric survival curve;
- `fit_patience` fits exponential, lognormal and Weibull laws by maximum likelihood with
  censoring (Nelder–Mead on log-parameters) and keeps the one of least AIC = 2k − 2 log L
  (the stated criterion; a lognormal or Weibull must beat the exponential by its extra
  parameter's 2 points);
- `conditional_sample` draws T given T > w by inversion, for replaying people whose patience
  was never seen to run out.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from sim.eventlog import TicketLog

__all__ = ["kaplan_meier", "PatienceFit", "fit_patience", "nelder_mead", "patience_data"]

_N = NormalDist()


def kaplan_meier(times: Sequence[float], events: Sequence[bool]) -> list[tuple[float, float]]:
    """(t, S(t)) at each event time, S just after t."""
    order = sorted(range(len(times)), key=lambda i: (times[i], not events[i]))
    at_risk = len(times)
    s = 1.0
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(order):
        t = times[order[i]]
        d = c = 0
        while i < len(order) and times[order[i]] == t:
            if events[order[i]]:
                d += 1
            else:
                c += 1
            i += 1
        if d:
            s *= 1 - d / at_risk
            out.append((t, s))
        at_risk -= d + c
    return out


def nelder_mead(f: Callable[[list[float]], float], x0: Sequence[float], step: float = 0.5,
                iterations: int = 400, tol: float = 1e-9) -> list[float]:
    """Minimise `f` (a small, smooth problem: two or three parameters)."""
    n = len(x0)
    pts = [list(x0)] + [[x + (step if j == i else 0.0) for j, x in enumerate(x0)] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iterations):
        order = sorted(range(n + 1), key=vals.__getitem__)
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) < tol * (1 + abs(vals[0])):
            break
        centre = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        worst = pts[-1]
        refl = [c + (c - w) for c, w in zip(centre, worst, strict=True)]
        fr = f(refl)
        if fr < vals[0]:
            exp_ = [c + 2 * (c - w) for c, w in zip(centre, worst, strict=True)]
            fe = f(exp_)
            pts[-1], vals[-1] = (exp_, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = [c + 0.5 * (w - c) for c, w in zip(centre, worst, strict=True)]
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                best = pts[0]
                pts = [best] + [[b + 0.5 * (x - b) for b, x in zip(best, p, strict=True)]
                                for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    return pts[min(range(n + 1), key=vals.__getitem__)]


@dataclass(frozen=True, slots=True)
class PatienceFit:
    law: str  # exponential, lognormal or weibull
    params: tuple[float, ...]  # exponential (mean); lognormal (mu, sigma); weibull (shape, scale)
    log_likelihood: float
    aic: float
    events: int
    censored: int

    @property
    def mean(self) -> float:
        if self.law == "exponential":
            return self.params[0]
        if self.law == "lognormal":
            mu, sigma = self.params
            return math.exp(mu + sigma * sigma / 2)
        k, lam = self.params
        return lam * math.gamma(1 + 1 / k)

    @property
    def cv(self) -> float:
        if self.law == "exponential":
            return 1.0
        if self.law == "lognormal":
            return math.sqrt(math.exp(self.params[1] ** 2) - 1)
        k = self.params[0]
        g1, g2 = math.gamma(1 + 1 / k), math.gamma(1 + 2 / k)
        return math.sqrt(max(g2 / (g1 * g1) - 1, 0.0))

    def cdf(self, t: float) -> float:
        if t <= 0:
            return 0.0
        if self.law == "exponential":
            return 1 - math.exp(-t / self.params[0])
        if self.law == "lognormal":
            mu, sigma = self.params
            return _N.cdf((math.log(t) - mu) / sigma)
        k, lam = self.params
        return 1 - math.exp(-((t / lam) ** k))

    def quantile(self, p: float) -> float:
        p = min(max(p, 1e-12), 1 - 1e-12)
        if self.law == "exponential":
            return -self.params[0] * math.log(1 - p)
        if self.law == "lognormal":
            mu, sigma = self.params
            return math.exp(mu + sigma * _N.inv_cdf(p))
        k, lam = self.params
        return lam * (-math.log(1 - p)) ** (1 / k)

    def conditional_sample(self, waited: float, rng: random.Random) -> float:
        """T drawn given T > `waited` (inversion of the fitted law)."""
        lo = self.cdf(waited)
        if lo >= 1 - 1e-12:
            return waited
        return max(waited, self.quantile(lo + rng.random() * (1 - lo)))

    def to_profile(self) -> dict[str, object]:
        """The demand-profile form ({dist, mean_minutes, cv})."""
        if self.law == "exponential":
            return {"dist": "exponential", "mean_minutes": round(self.mean / 60, 3)}
        return {"dist": self.law, "mean_minutes": round(self.mean / 60, 3),
                "cv": round(self.cv, 4)}


def _loglik(law: str, p: Sequence[float], times: Sequence[float], events: Sequence[bool]) -> float:
    total = 0.0
    if law == "exponential":
        m = p[0]
        for t, e in zip(times, events, strict=True):
            total += (-math.log(m) - t / m) if e else -t / m
        return total
    if law == "lognormal":
        mu, sigma = p
        for t, e in zip(times, events, strict=True):
            z = (math.log(max(t, 1e-9)) - mu) / sigma
            if e:
                total += -0.5 * z * z - math.log(sigma * max(t, 1e-9) * math.sqrt(2 * math.pi))
            else:
                total += math.log(max(0.5 * math.erfc(z / math.sqrt(2)), 1e-300))
        return total
    k, lam = p
    for t, e in zip(times, events, strict=True):
        x = max(t, 1e-9) / lam
        total += -(x ** k)
        if e:
            total += math.log(k / lam) + (k - 1) * math.log(x)
    return total


def fit_patience(times: Sequence[float], events: Sequence[bool]) -> PatienceFit | None:
    """The best of exponential / lognormal / Weibull by AIC; None without any event.

    `times` in seconds: the wait until leaving (event) or until being called (censored)."""
    n_ev = sum(1 for e in events if e)
    if n_ev == 0:
        return None
    pairs = [(t, e) for t, e in zip(times, events, strict=True) if t > 0 or e]
    ts = [max(t, 1.0) for t, _ in pairs]
    es = [e for _, e in pairs]
    exp_mean = sum(ts) / n_ev  # the closed-form censored MLE
    fits = [PatienceFit("exponential", (exp_mean,), _loglik("exponential", [exp_mean], ts, es),
                        0.0, n_ev, len(ts) - n_ev)]
    start = math.log(exp_mean)
    x = nelder_mead(lambda q: -_loglik("lognormal", [q[0], math.exp(q[1])], ts, es),
                    [start, 0.0])
    ln = (x[0], math.exp(x[1]))
    fits.append(PatienceFit("lognormal", ln, _loglik("lognormal", ln, ts, es), 0.0, n_ev,
                            len(ts) - n_ev))
    x = nelder_mead(lambda q: -_loglik("weibull", [math.exp(q[0]), math.exp(q[1])], ts, es),
                    [0.0, start])
    wb = (math.exp(x[0]), math.exp(x[1]))
    fits.append(PatienceFit("weibull", wb, _loglik("weibull", wb, ts, es), 0.0, n_ev,
                            len(ts) - n_ev))
    scored = [PatienceFit(f.law, f.params, f.log_likelihood,
                          2 * len(f.params) - 2 * f.log_likelihood, f.events, f.censored)
              for f in fits]
    return min(scored, key=lambda f: f.aic)


def patience_data(tickets: Sequence[TicketLog]) -> tuple[list[float], list[bool]]:
    """Censored patience observations, from issue as the model counts them: leaving (cancelled)
    after a (event), or being first called — or still waiting at closing — after w (T > w)."""
    times: list[float] = []
    events: list[bool] = []
    for t in tickets:
        for kind, at, _ in t.events:
            if kind in ("ticket.called", "ticket.closed", "ticket.cancelled"):
                times.append(at - t.issued)
                events.append(kind == "ticket.cancelled")
                break
    return times, events
