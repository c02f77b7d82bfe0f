"""Replications: reproducibility, common random numbers, pooling, and the hall day's rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from queueing.layout import load_layout, parse_layout
from sim.demand import load_demand, parse_demand
from sim.model import OUTCOME_SERVED, simulate_day
from sim.population import Person
from sim.runner import Config, run_config, run_days
from sim.scenarios import mmc_layout_raw, two_class_raw
from sim.stats import paired_difference, variance

ROOT = Path(__file__).resolve().parents[2]


def _stationary(per_hour: float, hours: float = 100.0) -> dict:
    return {"stationary": {"horizon_hours": hours, "warmup_hours": 5},
            "categories": {"A": {"rate_per_hour": per_hour,
                                 "service": {"dist": "exponential", "mean_minutes": 10}}}}


def test_same_seed_gives_identical_json_whatever_the_workers() -> None:
    import tomllib

    layout = tomllib.loads((ROOT / "examples/halls/county.toml").read_text(encoding="utf-8"))
    demand = tomllib.loads((ROOT / "examples/demand/county.toml").read_text(encoding="utf-8"))
    a = json.dumps(run_config(Config(layout, demand), 4, 11, workers=1), sort_keys=True)
    b = json.dumps(run_config(Config(layout, demand), 4, 11, workers=2), sort_keys=True)
    c = json.dumps(run_config(Config(layout, demand), 4, 12, workers=1), sort_keys=True)
    assert a == b
    assert a != c
    result = json.loads(a)
    assert result["days"] == 4
    assert set(result["wait_minutes"]) == {"mean", "mean_served", "mean_all_arrivals", "p50",
                                           "p90", "p95"}
    lo, hi = result["service_level"]["ci95"]
    assert lo <= result["service_level"]["value"] <= hi
    assert len(result["service_level"]["by_hour"]) >= 6
    assert result["queue_length"]["waiting"][0]["time"] == "08:30"


def test_common_random_numbers_shrink_the_paired_variance() -> None:
    import tomllib

    layout = tomllib.loads((ROOT / "examples/halls/county.toml").read_text(encoding="utf-8"))
    demand = tomllib.loads((ROOT / "examples/demand/county.toml").read_text(encoding="utf-8"))
    more = dict(layout)
    more["windows"] = [*layout["windows"],
                       {"number": 41, "kind": "comprehensive", "serves": ["A", "B", "C", "D"]}]
    days = 10
    base = [d["mean"] for d in run_days(Config(layout, demand), days, 5)]
    same = [d["mean"] for d in run_days(Config(more, demand), days, 5)]
    other = [d["mean"] for d in run_days(Config(more, demand), days, 5, first_day=1000)]
    crn = variance([a - b for a, b in zip(base, same, strict=True)])
    indep = variance([a - b for a, b in zip(base, other, strict=True)])
    assert crn < 0.25 * indep, (crn, indep)
    # and the paired interval says the extra 无差别 window helps
    diff = paired_difference(base, same)
    assert diff["ci95"][0] > 0


def test_pooled_windows_beat_dedicated_ones() -> None:
    demand = {"stationary": {"horizon_hours": 150, "warmup_hours": 5},
              "categories": {c: {"rate_per_hour": 20.0,
                                 "service": {"dist": "exponential", "mean_minutes": 10}}
                             for c in ("A", "B")}}
    pooled = run_days(Config(two_class_raw(8, 0, 0), demand), 6, 3)
    dedicated = run_days(Config(two_class_raw(0, 4, 4), demand), 6, 3)
    diff = paired_difference([d["mean"] for d in pooled], [d["mean"] for d in dedicated])
    assert diff["ci95"][1] < 0, diff  # pooled waits less, with 95% confidence


def _day_case() -> tuple:
    raw = mmc_layout_raw(1)
    raw["hours"] = {"periods": [["09:00", "10:00"], ["11:00", "12:00"]]}
    layout = parse_layout(raw)
    demand = parse_demand({"profile": {"start": "09:00", "interval_minutes": 60,
                                       "cutoff_minutes": 0},
                           "categories": {"A": {"arrivals": [1, 0, 1]}}}, layout)
    return layout, demand


def test_a_break_never_cuts_a_service_and_closing_serves_those_left() -> None:
    layout, demand = _day_case()
    people = [
        Person(9 * 3600 + 50 * 60, "A", 20 * 60.0, math.inf, False),  # runs past 10:00
        Person(9 * 3600 + 55 * 60, "A", 5 * 60.0, math.inf, False),  # waits for 11:00
        Person(11 * 3600 + 50 * 60, "A", 30 * 60.0, math.inf, False),  # runs past closing
        Person(11 * 3600 + 55 * 60, "A", 10 * 60.0, math.inf, False),  # served in overtime
    ]
    rec = simulate_day(layout, demand, people)
    assert rec.called[0] == 9 * 3600 + 50 * 60
    assert rec.service_end[0] == 10 * 3600 + 10 * 60  # finished after the break began
    assert rec.called[1] == 11 * 3600  # nobody is called during the break
    assert rec.called[3] == 12 * 3600 + 20 * 60  # overtime: served after closing
    assert all(o == OUTCOME_SERVED for o in rec.outcome)
    assert rec.last_end - rec.close == 30 * 60
    # staffed time counts the overrun and the overtime
    assert rec.staffed[1] == (70 + 90) * 60


def test_patience_running_out_is_an_abandonment_at_that_moment() -> None:
    layout, demand = _day_case()
    people = [
        Person(9 * 3600, "A", 50 * 60.0, math.inf, False),
        Person(9 * 3600 + 60, "A", 5 * 60.0, 10 * 60.0, False),  # gives up at 09:11
        Person(9 * 3600 + 120, "A", 5 * 60.0, math.inf, True),  # absent when called
    ]
    rec = simulate_day(layout, demand, people)
    assert rec.left[1] == 9 * 3600 + 11 * 60
    assert math.isnan(rec.called[1])
    assert rec.called[2] == 9 * 3600 + 50 * 60
    assert rec.service_end[2] - rec.called[2] == demand.no_show_call_seconds


def test_staggered_lunch_keeps_the_hall_serving_at_noon() -> None:
    layout = load_layout(ROOT / "examples/halls/county.toml")
    demand = load_demand(ROOT / "examples/demand/county-noon.toml", layout)
    from sim.population import generate_people
    from sim.streams import Streams

    people = generate_people(demand, Streams(1, 0))
    rec = simulate_day(layout, demand, people)
    noon_calls = [c for c in rec.called if 12 * 3600 + 60 < c < 14 * 3600 - 60]
    assert noon_calls  # windows 1-8 work through lunch in shifts
    assert all(rec.window[i] <= 8 for i, c in enumerate(rec.called) if 12 * 3600 + 60 < c < 13.9 * 3600)


def test_a_no_show_who_comes_back_goes_a_few_places_back() -> None:
    layout, demand = _day_case()
    at = 9 * 3600
    people = [Person(at, "A", 20 * 60.0, math.inf, False)]  # serves 09:00-09:20
    people.append(Person(at + 60, "A", 5 * 60.0, math.inf, True, recheck_after=60.0))  # B
    people += [Person(at + 60 * k, "A", 60.0, math.inf, False) for k in range(2, 8)]  # C..H
    rec = simulate_day(layout, demand, people)
    first_call, marked, window = rec.rechecked[1]
    assert first_call == at + 20 * 60 and marked == first_call + demand.no_show_call_seconds
    assert rec.wait_start[1] == marked + 60.0
    assert rec.outcome[1] == OUTCOME_SERVED
    order = sorted(range(len(people)), key=lambda i: rec.called[i])
    # rules.recheckin_places_back = 3: behind the three at the head when B came back (D, E, F)
    assert order.index(1) == order.index(5) + 1


def test_rechecked_no_shows_are_exported_and_replayed() -> None:
    from sim.eventlog import day_to_events, parse_events
    from sim.model import day_epoch
    from sim.replay import replay

    layout, demand = _day_case()
    at = 9 * 3600
    people = [Person(at, "A", 20 * 60.0, math.inf, False),
              Person(at + 60, "A", 5 * 60.0, math.inf, True, recheck_after=60.0)]
    people += [Person(at + 60 * k, "A", 60.0, math.inf, False) for k in range(2, 8)]
    rec = simulate_day(layout, demand, people)
    envs = day_to_events(rec, people, "mmc", day_epoch(demand, layout), layout.timezone)
    kinds = [e["type"] for e in envs if e["data"]["id"] == 2]
    assert kinds == ["ticket.issued", "ticket.called", "ticket.no_show", "ticket.rechecked_in",
                     "ticket.called", "ticket.started", "ticket.finished"]
    raw = mmc_layout_raw(1)
    raw["hours"] = {"periods": [["09:00", "10:00"], ["11:00", "12:00"]]}
    result = replay(parse_events(json.dumps(e) for e in envs), raw, hours="layout")
    assert result["wait_minutes"]["mean"]["value"] == pytest.approx(
        result["recorded"]["wait_minutes"]["mean"]["value"], rel=1e-6)


def test_the_real_policy_orders_appointments_priority_and_the_ratio() -> None:
    from queueing.tickets import PriorityClass

    layout, demand = _day_case()  # rules: priority_ratio 2, appointment tolerance 15 min
    at = 9 * 3600
    elderly = PriorityClass.ELDERLY
    people = [
        Person(at, "A", 30 * 60.0, math.inf, False),  # holds the window until 09:30
        Person(at + 60, "A", 60.0, math.inf, False),  # N2
        Person(at + 120, "A", 60.0, math.inf, False, elderly),  # P1
        Person(at + 180, "A", 60.0, math.inf, False, elderly),  # P2
        Person(at + 240, "A", 60.0, math.inf, False, elderly),  # P3
        Person(at + 300, "A", 60.0, math.inf, False, appointment_start=at + 20 * 60),  # slot 09:20
    ]
    rec = simulate_day(layout, demand, people)
    order = sorted(range(1, len(people)), key=lambda i: rec.called[i])
    assert order == [5, 2, 3, 1, 4]  # appointment due, two priority, then a normal, then priority
    assert rec.wait_start[5] == at + 20 * 60  # an appointment waits from its slot
    assert rec.called[5] == at + 30 * 60
