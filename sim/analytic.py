"""Exact and approximate queueing formulas: the references the simulator is checked against.

Rates are per second (any unit works as long as it is the same everywhere): `lam` arrivals,
`mu` services per server, `theta` abandonments per waiting person (1 / mean patience).
Results are plain floats in that time unit. Every function raises `ValueError` for a rate that
is not positive or a server count below one; the Erlang C functions also raise it for an unstable
system (`lam >= c * mu`), because a waiting time there does not exist.

- Erlang B / Erlang C (M/M/c): waiting probability, mean wait, wait tail, service level.
- Erlang A (M/M/c+M): exact, from the birth–death chain truncated where its mass is below 1e-15,
  and the tagged customer's position chain for the waiting-time distribution.
- M/D/c exact (Crommelin): the number in system at times D apart is a Markov chain, from which
  the mean wait and the whole waiting-time distribution follow.
- Allen–Cunneen (G/G/c, an approximation: 7% low for M/D/c at c = 10), square-root (Halfin–Whitt) staffing, per-period SIPP and lag-SIPP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "erlang_b",
    "erlang_c",
    "ErlangC",
    "mmc",
    "ErlangA",
    "mmc_abandon",
    "allen_cunneen_wait",
    "MDc",
    "mdc",
    "sqrt_staffing",
    "halfin_whitt_beta",
    "staff_for_service_level",
    "staff_for_service_level_a",
    "sipp",
    "lag_sipp",
    "normal_cdf",
]


def _check(c: int, lam: float, mu: float) -> None:
    if c < 1:
        raise ValueError(f"servers: must be at least 1, got {c}")
    if not lam > 0:
        raise ValueError(f"arrival rate: must be positive, got {lam}")
    if not mu > 0:
        raise ValueError(f"service rate: must be positive, got {mu}")


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load `a` erlangs (stable recursion)."""
    if c < 0 or a < 0:
        raise ValueError("erlang_b: servers and load must not be negative")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load `a` < c erlangs."""
    if a >= c:
        raise ValueError(f"erlang_c: unstable, load {a} >= servers {c}")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


@dataclass(frozen=True, slots=True)
class ErlangC:
    """Steady-state M/M/c results (waits exclude service)."""

    c: int
    lam: float
    mu: float
    p_wait: float
    mean_wait: float
    mean_queue: float
    utilisation: float

    def wait_tail(self, t: float) -> float:
        """P(wait > t) for t >= 0."""
        return self.p_wait * math.exp(-(self.c * self.mu - self.lam) * t)

    def service_level(self, t: float) -> float:
        """P(wait <= t): the share served within `t`."""
        return 1.0 - self.wait_tail(t)

    def wait_quantile(self, p: float) -> float:
        """Smallest t with P(wait <= t) >= p (0 when p <= 1 - P(wait))."""
        if not 0 < p < 1:
            raise ValueError("quantile level must be in (0, 1)")
        if 1.0 - p >= self.p_wait:
            return 0.0
        return math.log(self.p_wait / (1.0 - p)) / (self.c * self.mu - self.lam)


def mmc(c: int, lam: float, mu: float) -> ErlangC:
    """Exact M/M/c (Erlang C); raises ValueError when `lam >= c * mu`."""
    _check(c, lam, mu)
    a = lam / mu
    pw = erlang_c(c, a)
    wq = pw / (c * mu - lam)
    return ErlangC(c, lam, mu, pw, wq, lam * wq, a / c)


@dataclass(frozen=True, slots=True)
class ErlangA:
    """Steady-state M/M/c+M results.

    `mean_wait` is over all arrivals (served and abandoning, Little's law); `mean_wait_served`
    over those served only. `service_level(t)` is P(served and waited <= t) over all arrivals;
    `offered_service_level(t)` is P(virtual wait <= t), what a person of infinite patience sees.
    """

    c: int
    lam: float
    mu: float
    theta: float
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_wait_served: float
    mean_queue: float
    utilisation: float
    _arrival_dist: tuple[float, ...]  # P(arrival finds n in system), n = 0..N

    def _position_cdf(self, t: float, with_patience: bool) -> tuple[float, float]:
        """(P(reach service by t), P(abandon by t)) for an arrival; without patience the
        second is 0 and the first is the virtual-wait distribution."""
        c, mu, theta = self.c, self.mu, self.theta
        dist = self._arrival_dist
        total = sum(dist[:c])  # served at once
        if len(dist) <= c:
            return total, 0.0
        kmax = len(dist) - 1 - c  # most people ahead in the queue
        # Uniformisation over the tagged person's "people ahead" chain: from k ahead the next
        # step is k-1 at rate c*mu + k*theta, plus own abandonment at rate theta (absorbing).
        own = theta if with_patience else 0.0
        rate = c * mu + kmax * theta + own
        p = [dist[c + k] for k in range(kmax + 1)]
        lam_t = rate * t
        n_max = int(lam_t + 10 * math.sqrt(lam_t + 1) + 20)
        log_w = -lam_t
        reached = gave_up = weight = 0.0
        served_so_far = left_so_far = 0.0
        for n in range(n_max + 1):
            w = math.exp(log_w) if log_w > -745 else 0.0
            # after n jumps: served_so_far / left_so_far are the absorbed probabilities
            reached += w * served_so_far
            gave_up += w * left_so_far
            weight += w
            nxt = [0.0] * (kmax + 1)
            leave = own / rate
            for k in range(kmax + 1):
                pk = p[k]
                if pk == 0.0:
                    continue
                down = (c * mu + k * theta) / rate
                if k == 0:
                    served_so_far += pk * down
                else:
                    nxt[k - 1] += pk * down
                left_so_far += pk * leave
                nxt[k] += pk * (1.0 - down - leave)
            p = nxt
            log_w += math.log(lam_t) - math.log(n + 1) if lam_t > 0 else -math.inf
        # jumps beyond n_max carry negligible weight; count them as fully progressed
        reached += (1.0 - weight) * served_so_far
        gave_up += (1.0 - weight) * left_so_far
        return total + reached, gave_up

    def metrics_service_level(self, t: float) -> float:
        """Service level in `queueing.metrics`' definition: served within t over those served
        plus those who left after waiting more than t."""
        served_by_t, left_by_t = self._position_cdf(t, with_patience=True)
        denominator = (1.0 - self.p_abandon) + (self.p_abandon - left_by_t)
        return served_by_t / denominator

    def service_level(self, t: float) -> float:
        """P(an arrival is served after waiting at most `t`)."""
        return self._position_cdf(t, with_patience=True)[0]

    def offered_service_level(self, t: float) -> float:
        """P(virtual wait <= t): served within t if patience were unlimited."""
        return self._position_cdf(t, with_patience=False)[0]


def mmc_abandon(c: int, lam: float, mu: float, theta: float, tol: float = 1e-15) -> ErlangA:
    """Exact M/M/c+M (Erlang A) from the birth–death chain; any load (abandonment keeps it stable).

    `theta` = 0 reduces to Erlang C (and then needs `lam < c * mu`).
    """
    _check(c, lam, mu)
    if theta < 0:
        raise ValueError(f"abandonment rate: must not be negative, got {theta}")
    if theta == 0:
        e = mmc(c, lam, mu)
        dist = _mmc_dist(c, lam, mu, tol)
        return ErlangA(c, lam, mu, 0.0, e.p_wait, 0.0, e.mean_wait, e.mean_wait, e.mean_queue,
                       e.utilisation, tuple(dist))
    # unnormalised log-probabilities, built upward until they become negligible past the mode
    logs = [0.0]
    top = 0.0
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        logs.append(logs[-1] + math.log(lam) - math.log(death))
        top = max(top, logs[-1])
        if n > c and lam < death and logs[-1] < top + math.log(tol):
            break
        if n > 10_000_000:  # pragma: no cover - guards absurd inputs
            raise ValueError("erlang A: state space too large")
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    z = sum(weights)
    dist = [w / z for w in weights]
    p_wait = sum(dist[c:])
    mean_queue = sum((k - c) * dist[k] for k in range(c + 1, len(dist)))
    p_abandon = theta * mean_queue / lam
    mean_wait = mean_queue / lam
    busy = sum(min(k, c) * dist[k] for k in range(len(dist)))
    # E[wait | served]: with k people ahead the tagged person passes stages j = k..0, each of
    # length Exp(c*mu + (j+1)*theta) (progress or own abandonment, whichever comes first), and
    # a stage's length is independent of how it ends, so E[V | served] = sum of 1/stage rates.
    served_wait = 0.0
    for k in range(len(dist) - c):
        surv = 1.0
        stage_means = 0.0
        for j in range(k, -1, -1):
            total = c * mu + (j + 1) * theta
            stage_means += 1.0 / total
            surv *= (c * mu + j * theta) / total
        served_wait += dist[c + k] * surv * stage_means
    p_served = 1.0 - p_abandon
    mean_wait_served = served_wait / p_served if p_served > 0 else math.inf
    return ErlangA(c, lam, mu, theta, p_wait, p_abandon, mean_wait, mean_wait_served,
                   mean_queue, busy / c, tuple(dist))


def _mmc_dist(c: int, lam: float, mu: float, tol: float) -> list[float]:
    logs = [0.0]
    top = 0.0
    n = 0
    while True:
        n += 1
        logs.append(logs[-1] + math.log(lam) - math.log(min(n, c) * mu))
        top = max(top, logs[-1])
        if n > c and logs[-1] < top + math.log(tol):
            break
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    z = sum(weights)
    return [w / z for w in weights]


@dataclass(frozen=True, slots=True)
class MDc:
    """Steady-state M/D/c (service exactly `d`), FCFS."""

    c: int
    lam: float
    d: float
    mean_wait: float
    p_wait: float
    mean_queue: float
    utilisation: float
    _dist: tuple[float, ...]  # P(n in system) at an arbitrary time (= what an arrival sees)

    def service_level(self, t: float) -> float:
        """P(wait <= t). With t = kD + u (0 <= u < D): the person arriving at time s waits at most
        t iff those still ahead of them at s + t fit the c windows; counting from s - (D - u),
        that is max(N - c, 0) + 1 + Poisson(lam (D - u)) <= (k + 1) c (Crommelin 1932)."""
        if t < 0:
            return 0.0
        k = int(t // self.d)
        u = t - k * self.d
        limit = (k + 1) * self.c - 1  # what may be ahead of them, themselves excluded
        a = _poisson(self.lam * (self.d - u), limit + 1)
        total = 0.0
        for n, pn in enumerate(self._dist):
            ahead = max(n - self.c, 0)
            room = limit - ahead
            if room < 0:
                break
            total += pn * sum(a[: room + 1])
        return min(total, 1.0)


def _poisson(mean: float, size: int) -> list[float]:
    out = [0.0] * size
    p = math.exp(-mean)
    for k in range(size):
        out[k] = p
        p *= mean / (k + 1)
    return out


def mdc(c: int, lam: float, d: float, tol: float = 1e-13) -> MDc:
    """Exact M/D/c: N(t + D) = max(N(t) - c, 0) + Poisson(lam D) holds at any t (everyone in
    service at t has left by t + D, and at most c of those waiting at t start by then), so the
    chain's stationary law is the time-average law of N. Found by iterating the chain from an
    empty hall until it changes by less than `tol` (total variation per step)."""
    _check(c, lam, 1.0 / d if d > 0 else 0.0)
    a_load = lam * d
    if a_load >= c:
        raise ValueError(f"M/D/c: unstable, load {a_load} >= servers {c}")
    # arrivals in one D, truncated where the tail is negligible
    kmax = int(a_load + 12 * math.sqrt(a_load) + 20)
    a = _poisson(a_load, kmax + 1)
    p = a[:]
    for _ in range(1_000_000):
        shifted = [sum(p[: c + 1])] + p[c + 1:]  # max(N - c, 0)
        nxt = [0.0] * (len(shifted) + kmax)
        for i, qi in enumerate(shifted):
            if qi < 1e-300:
                continue
            for j, aj in enumerate(a):
                nxt[i + j] += qi * aj
        while len(nxt) > c + 1 and nxt[-1] < 1e-18:
            nxt.pop()
        z = sum(nxt)
        nxt = [x / z for x in nxt]
        diff = sum(abs(x - (p[i] if i < len(p) else 0.0)) for i, x in enumerate(nxt)) + sum(
            p[len(nxt):])
        p = nxt
        if diff < tol:
            break
    mean_queue = sum((n - c) * pn for n, pn in enumerate(p) if n > c)
    p_wait = sum(p[c:])
    busy = sum(min(n, c) * pn for n, pn in enumerate(p))
    return MDc(c, lam, d, mean_queue / lam, p_wait, mean_queue, busy / c, tuple(p))


def allen_cunneen_wait(c: int, lam: float, mu: float, ca2: float, cs2: float) -> float:
    """Allen–Cunneen mean wait for G/G/c: Erlang C's mean wait times (ca² + cs²) / 2.

    `ca2`, `cs2` are squared coefficients of variation of inter-arrival and service times
    (1 for exponential, 0 for deterministic). Exact for M/G/1 (Pollaczek–Khinchine).
    """
    if ca2 < 0 or cs2 < 0:
        raise ValueError("squared coefficients of variation must not be negative")
    return mmc(c, lam, mu).mean_wait * (ca2 + cs2) / 2.0


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def halfin_whitt_beta(p_wait: float) -> float:
    """The β of square-root staffing whose Halfin–Whitt delay probability is `p_wait`."""
    if not 0 < p_wait < 1:
        raise ValueError("p_wait must be in (0, 1)")

    def delay(beta: float) -> float:
        return 1.0 / (1.0 + beta * normal_cdf(beta) / _normal_pdf(beta))

    lo, hi = 1e-9, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if delay(mid) > p_wait:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sqrt_staffing(a: float, beta: float) -> int:
    """Square-root staffing rule: ceil(a + beta * sqrt(a)) servers for `a` erlangs."""
    if a < 0:
        raise ValueError("offered load must not be negative")
    return max(1, math.ceil(a + beta * math.sqrt(a) - 1e-12))


def staff_for_service_level(lam: float, mu: float, within: float, target: float,
                            start: int | None = None) -> int:
    """Fewest M/M/c servers with P(wait <= within) >= target (Erlang C)."""
    _check(1, lam, mu)
    if not 0 < target < 1:
        raise ValueError("target must be in (0, 1)")
    c = max(start or 1, math.floor(lam / mu) + 1)
    while mmc(c, lam, mu).service_level(within) < target:
        c += 1
    return c


def staff_for_service_level_a(lam: float, mu: float, theta: float, within: float,
                              target: float) -> int:
    """Fewest M/M/c+M servers with P(served within `within`) >= target (Erlang A)."""
    _check(1, lam, mu)
    if not 0 < target < 1:
        raise ValueError("target must be in (0, 1)")
    c = max(1, math.floor(lam / mu * 0.8))
    while mmc_abandon(c, lam, mu, theta).service_level(within) < target:
        c += 1
    return c


def sipp(rates: Sequence[float], mu: float, within: float, target: float) -> list[int]:
    """Stationary independent period-by-period staffing: Erlang C per period's rate.

    A period with rate 0 needs 0 servers.
    """
    return [staff_for_service_level(r, mu, within, target) if r > 0 else 0 for r in rates]


def lag_sipp(rates: Sequence[float], period: float, mu: float, within: float, target: float,
             rate_at: Callable[[float], float] | None = None) -> list[int]:
    """Lag-SIPP (Green, Kolesar & Soares 2001): SIPP on rates shifted by the mean service time.

    `rates[i]` holds over [i*period, (i+1)*period). Each period is staffed for the average rate
    over the same interval moved back by 1/mu (before time 0 the rate is 0), which lets staffing
    follow the load's lag behind arrivals when services are long relative to a period.
    """
    if period <= 0:
        raise ValueError("period must be positive")
    lag = 1.0 / mu

    def avg(lo: float, hi: float) -> float:
        if rate_at is not None:
            steps = 64
            return sum(rate_at(lo + (k + 0.5) * (hi - lo) / steps) for k in range(steps)) / steps
        total = 0.0
        for i, r in enumerate(rates):
            a, b = max(lo, i * period), min(hi, (i + 1) * period)
            if b > a:
                total += r * (b - a)
        return total / (hi - lo)

    shifted = [avg(i * period - lag, (i + 1) * period - lag) for i in range(len(rates))]
    return [staff_for_service_level(r, mu, within, target) if r > 0 else 0 for r in shifted]
