"""The analytic references: published table values, closed forms and internal consistency."""

from __future__ import annotations

import math

import pytest

from sim import analytic as an


def test_erlang_b_matches_published_table() -> None:
    # Erlang B tables (e.g. any teletraffic handbook): 5 E on 5 lines 0.2849, 10 E on 10 lines 0.2146
    assert an.erlang_b(5, 5.0) == pytest.approx(0.2849, abs=5e-5)
    assert an.erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)


def test_erlang_c_matches_mm1_and_mm2_closed_forms() -> None:
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam)
    e = an.mmc(1, 0.8, 1.0)
    assert e.p_wait == pytest.approx(0.8)
    assert e.mean_wait == pytest.approx(0.8 / 0.2)
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho), rho = lam / (2 mu)
    rho = 0.75
    e2 = an.mmc(2, 1.5, 1.0)
    assert e2.p_wait == pytest.approx(2 * rho**2 / (1 + rho))
    assert e2.mean_wait == pytest.approx(e2.p_wait / (2.0 - 1.5))


def test_erlang_c_tail_and_quantile_agree() -> None:
    e = an.mmc(10, 0.9, 0.1)
    q = e.wait_quantile(0.9)
    assert e.service_level(q) == pytest.approx(0.9)
    assert e.wait_tail(0) == pytest.approx(e.p_wait)


def test_erlang_c_rejects_unstable_and_bad_rates() -> None:
    with pytest.raises(ValueError, match="unstable"):
        an.mmc(2, 2.0, 1.0)
    with pytest.raises(ValueError, match="arrival rate"):
        an.mmc(2, -1.0, 1.0)
    with pytest.raises(ValueError, match="servers"):
        an.mmc(0, 1.0, 1.0)


def test_erlang_a_with_theta_equal_mu_is_poisson() -> None:
    # When patience rate equals service rate every person leaves at rate mu: M/M/inf, Poisson(a)
    c, lam, mu = 10, 1.2, 0.1
    a = lam / mu
    r = an.mmc_abandon(c, lam, mu, mu)
    pois = [math.exp(-a) * a**k / math.factorial(k) for k in range(120)]
    assert r.p_wait == pytest.approx(sum(pois[c:]), rel=1e-9)
    assert r.mean_queue == pytest.approx(sum((k - c) * p for k, p in enumerate(pois) if k > c),
                                         rel=1e-9)
    assert r.p_abandon == pytest.approx(mu * r.mean_queue / lam)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    c, lam, mu = 10, 0.9, 0.1
    exact = an.mmc(c, lam, mu)
    r = an.mmc_abandon(c, lam, mu, 1e-7)
    assert r.mean_wait == pytest.approx(exact.mean_wait, rel=1e-3)
    assert r.service_level(10.0) == pytest.approx(exact.service_level(10.0), abs=1e-4)


def test_erlang_a_waits_are_consistent() -> None:
    r = an.mmc_abandon(5, 0.7, 0.1, 0.05)
    # served people waited less on average than the all-arrivals mean's upper bound allows
    assert 0 < r.mean_wait_served
    assert r.service_level(0.0) == pytest.approx(1 - r.p_wait, abs=1e-12)
    # the service level grows with the target and is capped by the share served
    sl = [r.service_level(t) for t in (1, 5, 20, 200)]
    assert sl == sorted(sl)
    assert sl[-1] == pytest.approx(1 - r.p_abandon, abs=1e-6)
    assert r.offered_service_level(5) >= r.service_level(5)


def test_allen_cunneen_is_exact_for_md1() -> None:
    # Pollaczek–Khinchine M/D/1: Wq = rho / (2 mu (1 - rho))
    lam, mu = 0.8, 1.0
    assert an.allen_cunneen_wait(1, lam, mu, 1.0, 0.0) == pytest.approx(0.8 / (2 * 0.2))


def test_halfin_whitt_beta_and_sqrt_staffing() -> None:
    # Halfin–Whitt: beta = 1 gives delay probability 1 / (1 + Phi(1)/phi(1)) = 0.22336
    beta = an.halfin_whitt_beta(0.22336)
    assert beta == pytest.approx(1.0, abs=1e-3)
    assert an.sqrt_staffing(100.0, 1.0) == 110
    # square-root staffing lands near the exact Erlang C answer for large loads
    exact = min(c for c in range(101, 200) if an.mmc(c, 100.0, 1.0).p_wait <= 0.2)
    assert abs(an.sqrt_staffing(100.0, an.halfin_whitt_beta(0.2)) - exact) <= 1


def test_staff_for_service_level_is_the_fewest() -> None:
    lam, mu = 0.2, 1 / 240
    c = an.staff_for_service_level(lam, mu, 15.0, 0.8)
    assert an.mmc(c, lam, mu).service_level(15.0) >= 0.8
    assert an.mmc(c - 1, lam, mu).service_level(15.0) < 0.8 if c - 1 > lam / mu else True


def test_sipp_and_lag_sipp_follow_the_load() -> None:
    mu = 1 / 600.0  # ten-minute services
    rates = [0.0, 0.05, 0.1, 0.05, 0.0]
    s = an.sipp(rates, mu, 900, 0.9)
    assert s[0] == 0 and s[2] > s[1] and s[-1] == 0
    lag = an.lag_sipp(rates, 3600.0, mu, 900, 0.9)
    # lag-SIPP keeps staff on after the last arrivals (the load lags the arrivals by 1/mu)
    assert lag[-1] > 0 and lag[0] == 0
    assert lag[3] >= s[3]


def test_reference_beside_a_stationary_run_is_erlang_c_or_a() -> None:
    from sim.analytic_ref import reference
    from sim.scenarios import mmc_case

    layout, demand = mmc_case(4, 21.6, 10.0)
    ref = reference(layout, demand)
    assert ref["model"] == "erlang_c"
    assert ref["mean_wait_minutes"] == pytest.approx(an.mmc(4, 21.6 / 3600, 1 / 600).mean_wait / 60,
                                                     abs=1e-4)
    layout, demand = mmc_case(4, 30.0, 10.0, patience_minutes=20.0)
    ref = reference(layout, demand)
    assert ref["model"] == "erlang_a"
    exact = an.mmc_abandon(4, 30 / 3600, 1 / 600, 1 / 1200)
    assert ref["abandonment_rate"] == pytest.approx(exact.p_abandon, abs=1e-6)
