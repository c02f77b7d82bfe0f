"""Patience and no-shows fitted properly, and replay's counterfactual patience (issue 15, items
4 and 6–8)."""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest

from queueing.layout import parse_layout
from sim.calibrate import calibrate
from sim.demand import parse_demand
from sim.distributions import lognormal, weibull
from sim.eventlog import day_to_events, tickets_from_events
from sim.model import day_epoch, simulate_day
from sim.population import generate_people
from sim.replay import activity_periods, replay
from sim.results import summarise_day
from sim.streams import Streams
from sim.survival import fit_patience, kaplan_meier

ROOT = Path(__file__).resolve().parents[2]
DAYS = 6


def test_kaplan_meier_steps_at_events_and_skips_the_censored() -> None:
    km = kaplan_meier([1, 2, 2, 3, 4], [True, False, True, True, False])
    assert km == [(1, pytest.approx(0.8)), (2, pytest.approx(0.6)), (3, pytest.approx(0.3))]


@pytest.mark.parametrize("law", ["lognormal", "weibull"])
def test_censored_fit_finds_the_law_and_its_mean(law: str) -> None:
    rng = random.Random(4)
    truth = (lognormal if law == "lognormal" else weibull)(3600.0, 0.8)
    times, events = [], []
    for _ in range(3000):
        t, c = truth.sample(rng), rng.expovariate(1 / 2400)
        times.append(min(t, c))
        events.append(t <= c)
    fit = fit_patience(times, events)
    assert fit is not None and fit.law == law
    assert fit.mean == pytest.approx(3600, rel=0.15)
    assert fit.cv == pytest.approx(0.8, rel=0.2)
    naive = sum(times) / sum(events)  # the old exponential estimate, far off here
    assert abs(naive - 3600) > abs(fit.mean - 3600)


def _layout_raw(windows: int) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "examples/halls/township.toml").read_text(encoding="utf-8"))
    raw["windows"] = [w for w in raw["windows"] if w["kind"] == "comprehensive"]
    for n in range(len(raw["windows"]) + 1, windows + 1):
        raw["windows"].append({"number": n, "name": f"综合窗口{n}", "kind": "comprehensive",
                               "serves": ["A", "B", "C"]})
    raw["windows"] = raw["windows"][:windows]
    raw["categories"] = [c for c in raw["categories"] if c["code"] != "D"]
    return raw


DEMAND = {
    "profile": {"date": "2026-11-23", "start": "08:30", "interval_minutes": 30,
                "cutoff_minutes": 30, "no_show": 0.06, "recheck_in": 0.5,
                "recheck_delay": {"dist": "exponential", "mean_minutes": 10},
                "service": {"dist": "lognormal", "mean_minutes": 10, "cv": 0.5},
                "patience": {"dist": "lognormal", "mean_minutes": 60, "cv": 0.8}},
    "categories": {"A": {"arrivals": [22.0] * 7 + [0.0] * 4 + [22.0] * 5}},
}


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    base_raw, fewer_raw = _layout_raw(8), _layout_raw(6)
    base, fewer = parse_layout(base_raw), parse_layout(fewer_raw)
    demand = parse_demand(DEMAND, base)
    envs: list[dict[str, Any]] = []
    tid = seq = 1
    true_left = true_people = 0
    for day in range(DAYS):
        d = copy.copy(demand)
        object.__setattr__(d, "date", demand.date + dt.timedelta(days=day))
        people = generate_people(d, Streams(21, day))
        rec = simulate_day(base, d, people)
        e = day_to_events(rec, people, "township", day_epoch(d, base), base.timezone, tid, seq)
        envs += e
        seq += len(e)
        tid += len(people)
        what_if = summarise_day(simulate_day(fewer, d, people), people, d)
        true_left += what_if["abandonment_rate"] * what_if["arrivals"]
        true_people += what_if["arrivals"]
    for env in envs:
        env["at_epoch"] = dt.datetime.fromisoformat(env["at"]).timestamp()
    return {"envs": envs, "base": base, "base_raw": base_raw, "fewer_raw": fewer_raw,
            "true_abandonment": true_left / true_people}


def test_calibrate_fits_patience_law_no_shows_and_rechecks(recorded: dict[str, Any]) -> None:
    fitted = calibrate(recorded["envs"], recorded["base"], 30)
    p = fitted["profile"]["patience"]
    # stated tolerances: the law by AIC, its mean within 30% (the long tail is mostly censored)
    assert fitted["patience_fit"]["law"] == "lognormal" and p["dist"] == "lognormal"
    assert p["mean_minutes"] == pytest.approx(60, rel=0.3)
    a = fitted["categories"]["A"]
    assert a["no_show"] == pytest.approx(0.06, abs=0.02)
    assert a["recheck_in"] == pytest.approx(0.5, abs=0.15)
    assert a["recheck_delay"]["mean_minutes"] == pytest.approx(10, rel=0.3)


def test_replay_with_fewer_windows_draws_patience_and_matches_the_truth(
        recorded: dict[str, Any]) -> None:
    truth = recorded["true_abandonment"]
    assert truth > 0.03  # the what-if is one where people do give up
    out = replay(recorded["envs"], recorded["fewer_raw"])
    got = out["abandonment_rate"]["value"]
    assert got == pytest.approx(truth, rel=0.2)
    assert out["patience"]["dist"] == "lognormal"


def test_replay_hours_keep_the_lunch_break(recorded: dict[str, Any]) -> None:
    tickets = tickets_from_events(recorded["envs"])
    first_day = dt.datetime.fromtimestamp(tickets[0].issued, dt.UTC).date()
    del first_day
    zone_midnight = dt.datetime.combine(dt.date(2026, 11, 23), dt.time(0, 0),
                                        tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    day = [t for t in tickets if t.issued < zone_midnight + 86400]
    periods = activity_periods(day, zone_midnight)
    # windows close 12:00-14:00; people leaving the queue during lunch do not reopen them
    assert len(periods) == 2
    assert periods[0][1] <= 12.5 * 3600 and periods[1][0] >= 13.9 * 3600
    assert not math.isnan(periods[0][0])


def test_people_balk_when_the_visible_queue_is_long() -> None:
    layout = parse_layout(_layout_raw(6))
    raw = copy.deepcopy(DEMAND)
    calm = parse_demand(raw, layout)
    raw["profile"]["balking"] = {"start": 10, "all": 40}
    balking = parse_demand(raw, layout)
    people_calm = generate_people(calm, Streams(3, 0))
    people = generate_people(balking, Streams(3, 0))
    assert [p.arrival for p in people] == [p.arrival for p in people_calm]  # same people
    with_balk = summarise_day(simulate_day(layout, balking, people), people, balking)
    without = summarise_day(simulate_day(layout, calm, people_calm), people_calm, calm)
    assert without["balking_rate"] == 0.0
    assert 0.02 < with_balk["balking_rate"] < 0.5
    # those who balk shorten the queue for the rest
    assert with_balk["mean_served"] < without["mean_served"]
    assert with_balk["arrivals"] < without["arrivals"]
    rec = simulate_day(layout, balking, people)
    events = day_to_events(rec, people, "township", day_epoch(balking, layout), layout.timezone)
    issued = sum(1 for e in events if e["type"] == "ticket.issued")
    assert issued == with_balk["arrivals"]  # a balker takes no ticket


def test_bad_balking_is_refused() -> None:
    from sim.demand import DemandError

    raw = copy.deepcopy(DEMAND)
    raw["profile"]["balking"] = {"start": 40, "all": 10}
    with pytest.raises(DemandError) as e:
        parse_demand(raw, parse_layout(_layout_raw(6)))
    assert e.value.field == "profile.balking.all"
