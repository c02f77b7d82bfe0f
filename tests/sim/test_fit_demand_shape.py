"""Calibrate → run for balking by visible queue length and the calendar (issue 15).

Two small synthetic township halls with known truth are simulated on fixed seeds, written as the
server's export, and `calibrate` must give the truth back within the stated tolerances:
balking's ramp (`sim.fit_balking`) from an overloaded hall, and month-end and named periods'
factors (`sim.fit_calendar`) from ten weeks of a lightly loaded one.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from queueing.layout import parse_layout
from sim.calibrate import calibrate, to_toml
from sim.demand import parse_demand
from sim.fit_calendar import fit_variation, parse_period
from sim.runner import Config, run_days
from sim.synthetic import recorded_log
from tests.sim.test_flows import _layout_raw  # 8 无差别 windows

DAY = [16.0] * 7 + [0.0] * 4 + [16.0] * 5


def _balking_truth() -> dict[str, Any]:
    # 8 windows of 10 min serve 24 per half hour: 34 come, so a queue builds and people balk
    return {
        "profile": {"date": "2026-11-23", "start": "08:30", "interval_minutes": 30,
                    "cutoff_minutes": 30, "balking": {"start": 6, "all": 30},
                    "service": {"dist": "lognormal", "mean_minutes": 10, "cv": 0.5}},
        "categories": {"A": {"arrivals": [34.0] * 7 + [0.0] * 4 + [34.0] * 5}},
    }


@pytest.fixture(scope="module")
def balking_fit() -> dict[str, Any]:
    log = recorded_log(_layout_raw(), _balking_truth(), 8, seed=5)
    return calibrate(log, parse_layout(_layout_raw()), 30)


def test_balking_ramp_is_recovered_from_the_issue_rate_against_queue_length(
        balking_fit: dict[str, Any]) -> None:
    b = balking_fit["profile"]["balking"]
    # stated tolerances: start within 3 of 6, all within 6 of 30 (eight days, ~3,000 tickets)
    assert b["start"] == pytest.approx(6, abs=3)
    assert b["all"] == pytest.approx(30, abs=6)
    assert balking_fit["balking_fit"]["likelihood_gain"] > 4


def test_arrivals_count_those_who_balked_and_the_fitted_hall_balks_like_the_truth(
        balking_fit: dict[str, Any]) -> None:
    arrivals = balking_fit["categories"]["A"]["arrivals"]
    # the walk-ins who came, balkers included: within 8% of 34 per busy half hour on average
    busy = [a for a in arrivals if a > 0]
    assert sum(busy) / len(busy) == pytest.approx(34, rel=0.08)
    truth = run_days(Config(_layout_raw(), _balking_truth()), 4, 11)
    again = run_days(Config(_layout_raw(), balking_fit), 4, 11)
    t = sum(d["balking_rate"] for d in truth) / 4
    f = sum(d["balking_rate"] for d in again) / 4
    # stated tolerance: the fitted hall's balking rate within 25% of the truth's (~20%)
    assert t > 0.1
    assert f == pytest.approx(t, rel=0.25)


def _calendar_truth() -> dict[str, Any]:
    return {
        "profile": {"date": "2026-01-19", "start": "08:30", "interval_minutes": 30,
                    "cutoff_minutes": 30,
                    "service": {"dist": "lognormal", "mean_minutes": 6, "cv": 0.5}},
        "categories": {"A": {"arrivals": DAY}},
        "variation": {"weekday": {"mon": 1.3, "tue": 1.0, "wed": 1.0, "thu": 1.0, "fri": 1.1,
                                  "sat": 0.7, "sun": 0.7},
                      "month_end": {"last_days": 3, "factor": 1.5},
                      "periods": [{"name": "开学", "from": "2026-02-09", "to": "2026-02-15",
                                   "factor": 1.4}],
                      "overdispersion": 0.004},
    }


PERIODS = [("开学", dt.date(2026, 2, 9), dt.date(2026, 2, 15))]


@pytest.fixture(scope="module")
def calendar_fit() -> dict[str, Any]:
    log = recorded_log(_layout_raw(), _calendar_truth(), 72, seed=2)
    return calibrate(log, parse_layout(_layout_raw()), 30, periods=PERIODS)


def test_month_end_and_period_factors_are_recovered(calendar_fit: dict[str, Any]) -> None:
    v = calendar_fit["variation"]
    # stated tolerances: factors within 0.15, about 2.5 standard errors (9 month-end days and 7
    # period days of ~200 tickets, each ±9% from Poisson and gamma noise)
    assert v["month_end"] == {"last_days": 3, "factor": pytest.approx(1.5, abs=0.15)}
    (p,) = v["periods"]
    assert (p["name"], p["from"], p["to"]) == ("开学", "2026-02-09", "2026-02-15")
    assert p["factor"] == pytest.approx(1.4, abs=0.15)
    wd = v["weekday"]
    assert wd["mon"] / wd["wed"] == pytest.approx(1.3, abs=0.12)
    assert wd["sat"] / wd["wed"] == pytest.approx(0.7, abs=0.1)
    assert v["overdispersion"] == pytest.approx(0.004, abs=0.01)


def test_without_special_days_no_calendar_factor_is_invented() -> None:
    days = [(dt.date(2026, 3, 2) + dt.timedelta(days=i), 200 + (i % 3)) for i in range(20)]
    v = fit_variation(days, [("节前", dt.date(2026, 5, 1), dt.date(2026, 5, 3))])
    assert v is not None
    assert "month_end" not in v and "periods" not in v
    assert fit_variation(days[:5]) is None


def test_the_fitted_calendar_and_balking_write_a_profile_that_loads(
        calendar_fit: dict[str, Any], balking_fit: dict[str, Any]) -> None:
    layout = parse_layout(_layout_raw())
    cal = parse_demand(tomllib.loads(to_toml(calendar_fit)), layout)
    assert cal.variation is not None and cal.variation.month_end_days == 3
    assert [p.name for p in cal.variation.periods] == ["开学"]
    balk = parse_demand(tomllib.loads(to_toml(balking_fit)), layout)
    assert balk.balking == (balking_fit["profile"]["balking"]["start"],
                            balking_fit["profile"]["balking"]["all"])


def test_a_malformed_period_is_refused_with_the_reason() -> None:
    assert parse_period("开学:2026-08-25:2026-09-05") == (
        "开学", dt.date(2026, 8, 25), dt.date(2026, 9, 5))
    for bad, why in (("开学:2026-08-25", "expected"), ("x:2026-13-01:2026-12-01", "YYYY-MM-DD"),
                     ("x:2026-09-05:2026-08-25", "before")):
        with pytest.raises(ValueError, match=why):
            parse_period(bad)
