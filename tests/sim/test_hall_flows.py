"""The hall's own flows (issue 15): transfers, 一事联办, 挂起 and return, short pauses, bookings.

Calibrate → run: a small synthetic hall with known truth is simulated for six days, written as
the server's export, and `calibrate` must give every flow's parameter back within the stated
tolerance; the fitted profile then runs and waits like the truth.
"""

from __future__ import annotations

import argparse
import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from queueing.layout import parse_layout
from sim.calibrate import calibrate
from sim.demand import DemandError, parse_demand
from sim.eventlog import tickets_from_events
from sim.model import OUTCOME_SERVED, simulate_day
from sim.population import generate_people
from sim.runner import Config, run_days
from sim.streams import Streams
from sim.synthetic import recorded_bookings, recorded_log
from tests.sim.test_flows import _layout_raw  # the same small township hall of 8 无差别 windows

ROOT = Path(__file__).resolve().parents[2]
DAYS, SEED = 6, 3


def _truth() -> dict[str, Any]:
    day = [15.0] * 7 + [0.0] * 4 + [15.0] * 5
    return {
        "profile": {"date": "2026-11-23", "start": "08:30", "interval_minutes": 30,
                    "cutoff_minutes": 30,
                    "service": {"dist": "lognormal", "mean_minutes": 8, "cv": 0.5},
                    "pauses": {"per_hour": 0.5, "minutes": 6},
                    "punctuality": {"early_mean_minutes": 4, "sd_minutes": 3}},
        "categories": {
            "A": {"arrivals": day,
                  "transfer": {"share": 0.15, "to_category": "B",
                               "service": {"dist": "lognormal", "mean_minutes": 12, "cv": 0.4}},
                  "multi_matter": {"share": 0.2, "matters": 2},
                  "suspend": {"share": 0.1, "returns": 0.8, "return_delay": 20, "at": 0.5}},
            "B": {"arrivals": [a / 3 for a in day],
                  "booking": {"slot_minutes": 30, "capacity": 3, "fill": 0.8, "no_show": 0.2}},
        },
    }


@pytest.fixture(scope="module")
def recorded() -> list[dict[str, Any]]:
    return recorded_log(_layout_raw(), _truth(), DAYS, SEED)


@pytest.fixture(scope="module")
def fitted(recorded: list[dict[str, Any]]) -> dict[str, Any]:
    bookings = recorded_bookings(_layout_raw(), _truth(), DAYS, SEED)
    return calibrate(recorded, parse_layout(_layout_raw()), 30, bookings=bookings)


def test_transfer_share_target_and_second_service_are_fitted(fitted: dict[str, Any]) -> None:
    t = fitted["categories"]["A"]["transfer"]
    # stated tolerances: share within 0.04 of 0.15 (about 1,000 served over six days)
    assert t["share"] == pytest.approx(0.15, abs=0.04)
    assert t["to_category"] == "B" and "to_window" not in t
    assert t["service"]["mean_minutes"] == pytest.approx(12, rel=0.1)
    assert "transfer" not in fitted["categories"]["B"]


def test_multi_matter_share_and_count_are_fitted_and_the_law_is_per_matter(
        fitted: dict[str, Any]) -> None:
    a = fitted["categories"]["A"]
    assert a["multi_matter"]["share"] == pytest.approx(0.2, abs=0.04)
    assert a["multi_matter"]["matters"] == 2
    # the person's own time per matter, not the two-matter sum (which would be ~9.6 min)
    assert a["service"]["mean_minutes"] == pytest.approx(8, rel=0.08)


def test_suspension_share_return_share_and_delay_are_fitted(fitted: dict[str, Any]) -> None:
    s = fitted["categories"]["A"]["suspend"]
    assert s["share"] == pytest.approx(0.1, abs=0.03)
    # returns after closing are lost to the day, so both come back a little low
    assert s["returns"] == pytest.approx(0.8, abs=0.1)
    assert s["return_delay"]["mean_minutes"] == pytest.approx(20, rel=0.2)
    assert s["at"] == pytest.approx(0.5, abs=0.05)


def test_pause_rate_and_length_are_fitted_and_turnaround_stays_zero(
        fitted: dict[str, Any]) -> None:
    p = fitted["profile"]["pauses"]
    assert p["per_hour"] == pytest.approx(0.5, rel=0.2)
    assert p["minutes"]["mean_minutes"] == pytest.approx(6, rel=0.15)
    assert fitted["profile"]["turnaround_minutes"] < 0.05  # pauses are not turnaround


def test_booking_slots_capacity_no_shows_and_lateness_are_fitted(fitted: dict[str, Any]) -> None:
    b = fitted["categories"]["B"]
    assert "appointment_share" not in b
    assert b["booking"]["slot_minutes"] == 30 and b["booking"]["capacity"] == 3
    assert b["booking"]["fill"] == pytest.approx(0.8, abs=0.06)
    assert b["booking"]["no_show"] == pytest.approx(0.2, abs=0.06)
    early = fitted["profile"]["punctuality"]
    assert early["early_mean_minutes"] == pytest.approx(4, abs=0.6)
    assert early["sd_minutes"] == pytest.approx(3, rel=0.2)
    # the walk-ins are counted without the booked: 5 an interval over 11 open intervals
    assert sum(b["arrivals"]) == pytest.approx(55, rel=0.1)


def test_without_the_booking_records_the_log_gives_places_shown(
        recorded: list[dict[str, Any]]) -> None:
    b = calibrate(recorded, parse_layout(_layout_raw()), 30)["categories"]["B"]["booking"]
    assert b["no_show"] == 0.0
    assert b["fill"] == pytest.approx(0.8 * 0.8, abs=0.1)  # booked and kept


def test_the_fitted_profile_runs_and_waits_like_the_truth(fitted: dict[str, Any]) -> None:
    layout = parse_layout(_layout_raw())
    demand = parse_demand(fitted, layout)
    assert demand.category("A").transfer is not None and demand.pauses is not None
    truth = run_days(Config(_layout_raw(), _truth()), 6, 11)
    again = run_days(Config(_layout_raw(), fitted), 6, 11)

    def mean(days: list[dict[str, Any]], key: str) -> float:
        return sum(d[key] for d in days) / len(days)

    assert mean(again, "mean") == pytest.approx(mean(truth, "mean"), rel=0.3)
    assert mean(again, "utilisation") == pytest.approx(mean(truth, "utilisation"), rel=0.08)


def _one_day(demand_raw: dict[str, Any], layout_raw: dict[str, Any] | None = None,
             seed: int = 5) -> tuple[Any, Any, Any]:
    layout = parse_layout(layout_raw or _layout_raw())
    demand = parse_demand(demand_raw, layout)
    people = generate_people(demand, Streams(seed, 0))
    return layout, people, simulate_day(layout, demand, people)


def test_a_transfer_waits_again_with_its_place_and_waits_add_up() -> None:
    raw = _truth()
    for c in raw["categories"].values():
        c.pop("multi_matter", None), c.pop("suspend", None), c.pop("booking", None)
    raw["profile"].pop("pauses")
    _, people, rec = _one_day(raw)
    assert rec.segments
    for i, segs in rec.segments.items():
        (seg,) = segs
        assert seg.kind == "transferred" and seg.to_category == "B"
        assert seg.end <= rec.wait_start[i] + 1e-6  # waits again after the first service
        if rec.outcome[i] == OUTCOME_SERVED:
            assert rec.called[i] >= seg.end
            assert rec.earlier_wait[i] == pytest.approx(max(0.0, seg.called - people[i].arrival),
                                                    abs=1e-3)
    # same people whether or not anyone is transferred (their own streams)
    plain = copy.deepcopy(raw)
    plain["categories"]["A"].pop("transfer")
    _, people0, _ = _one_day(plain)
    assert [p.arrival for p in people0] == [p.arrival for p in people]
    assert [p.service for p in people0] == [p.service for p in people]


def test_a_transfer_to_a_named_window_is_served_there() -> None:
    raw = _truth()
    raw["categories"]["A"]["transfer"] = {"share": 0.3, "to_window": 8}
    _, _, rec = _one_day(raw)
    moved = [i for i, s in rec.segments.items() if s[0].kind == "transferred"]
    assert len(moved) > 20
    assert all(rec.window[i] == 8 for i in moved if rec.outcome[i] == OUTCOME_SERVED)
    # with window 8's clerk away today its transfers wait in their category and are served
    layout = parse_layout(_layout_raw())
    demand = parse_demand(raw, layout)
    people = generate_people(demand, Streams(5, 0))
    away = simulate_day(layout, demand, people, off_today=frozenset({8}))
    moved = [i for i, s in away.segments.items() if s[0].kind == "transferred"]
    assert moved and all(away.outcome[i] == OUTCOME_SERVED and away.window[i] != 8
                         for i in moved)


def test_the_suspended_come_back_to_their_window_and_others_are_closed_with_the_day() -> None:
    raw = _truth()
    raw["profile"].pop("pauses")
    raw["categories"]["A"]["suspend"] = {"share": 0.3, "returns": 0.5, "return_delay": 10}
    _, _, rec = _one_day(raw)
    back = [(i, s) for i, segs in rec.segments.items() for s in segs if s.kind == "suspended"]
    assert len(back) > 10 and rec.not_back
    same = sum(rec.window[i] == s.window for i, s in back if rec.outcome[i] == OUTCOME_SERVED)
    assert same / len(back) > 0.9  # the named queue of the suspending window goes first
    envs = recorded_log(_layout_raw(), raw, 1, 5)
    ends = {t.id: [k for k, _, _ in t.events][-1] for t in tickets_from_events(envs)}
    assert all(ends[i + 1] == "ticket.closed" for i in rec.not_back)


def test_a_pause_never_cuts_a_service_and_shuts_the_window_for_its_length() -> None:
    raw = _truth()
    raw["profile"]["pauses"] = {"per_hour": 2.0, "minutes": {"dist": "deterministic",
                                                             "minutes": 10}}
    layout = parse_layout(_layout_raw())
    demand = parse_demand(raw, layout)
    people = generate_people(demand, Streams(5, 0))
    from sim.flows import draw_pauses

    pauses = draw_pauses(demand.pauses, layout, Streams(5, 0))
    rec = simulate_day(layout, demand, people, pauses=pauses)
    spans = [(w, a, b) for w, ss in rec.pauses.items() for a, b in ss]
    assert len(spans) > 20
    busy = {}
    for i in range(len(people)):
        if rec.outcome[i] == OUTCOME_SERVED:
            busy.setdefault(rec.window[i], []).append((rec.called[i], rec.service_end[i]))
    for w, a, b in spans:
        assert b - a == pytest.approx(600) or b - a < 600  # shortened only by a break's end
        assert not any(c < b - 1e-6 and e > a + 1e-6 for c, e in busy.get(w, ()))
    without = simulate_day(layout, demand, people)
    assert sum(rec.staffed.values()) < sum(without.staffed.values())


def test_bad_flow_tables_are_refused_naming_the_field() -> None:
    layout = parse_layout(_layout_raw())
    cases = [
        (("categories", "A", "transfer"), {"share": 0.1, "to_category": "B", "to_window": 2},
         "categories.A.transfer: give either"),
        (("categories", "A", "transfer"), {"share": 0.1, "to_category": "Z"},
         "categories.A.transfer.to_category: unknown"),
        (("categories", "A", "transfer"), {"share": 1.5, "to_window": 2},
         "categories.A.transfer.share"),
        (("categories", "A", "multi_matter"), {"share": 0.1, "matters": 1},
         "categories.A.multi_matter.matters"),
        (("categories", "A", "suspend"), {"share": 0.1, "at": 1.0}, "categories.A.suspend.at"),
        (("profile", "pauses"), {"per_hour": -1}, "profile.pauses.per_hour"),
    ]
    for path, value, message in cases:
        raw = _truth()
        table = raw
        for key in path[:-1]:
            table = table[key]
        table[path[-1]] = value
        with pytest.raises(DemandError, match=message.replace(".", r"\.")):
            parse_demand(raw, layout)
    assert not math.isnan(parse_demand(_truth(), layout).expected_total())
    stationary = {"stationary": {"horizon_hours": 100}, "profile": {"pauses": {"per_hour": 1}},
                  "categories": {"A": {"rate_per_hour": 10}}}
    with pytest.raises(DemandError, match=r"profile\.pauses: fall in a hall day"):
        parse_demand(stationary, layout)


def test_cli_calibrate_reads_the_booking_records_and_writes_a_profile_that_loads(
        tmp_path: Path, recorded: list[dict[str, Any]]) -> None:
    import json

    from sim import cli
    from sim.eventlog import write_events

    events, bookings, out = tmp_path / "e.jsonl", tmp_path / "b.jsonl", tmp_path / "d.toml"
    from sim.calibrate import _value

    layout_path = tmp_path / "l.toml"  # inline tables: the layout's own tables, one a line
    layout_path.write_text("".join(f"{k} = {_value(v)}\n" for k, v in _layout_raw().items()),
                           encoding="utf-8")
    write_events(recorded, events)
    bookings.write_text("".join(json.dumps(b) + "\n" for b in
                                recorded_bookings(_layout_raw(), _truth(), DAYS, SEED)),
                        encoding="utf-8")
    parser = argparse.ArgumentParser(prog="hall")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sim", "calibrate", "--events", str(events), "--layout",
                              str(layout_path), "--bookings", str(bookings), "--out", str(out)])
    assert args.func(args) == 0
    demand = parse_demand(tomllib.loads(out.read_text(encoding="utf-8")),
                          parse_layout(_layout_raw()))
    booking = demand.category("B").booking
    assert booking is not None and booking.no_show == pytest.approx(0.2, abs=0.06)
    assert demand.category("A").suspend is not None and demand.pauses is not None
    bookings.write_text('{"category": "B", "start": "soon", "status": "no_show"}\n',
                        encoding="utf-8")
    args = parser.parse_args(["sim", "calibrate", "--events", str(events), "--layout",
                              str(layout_path), "--bookings", str(bookings)])
    assert args.func(args) != 0


def test_plan_sizes_windows_and_booking_slots_together_and_the_report_shows_it() -> None:
    from sim.planning import Target, plan
    from sim.report import render_plan
    from sim.report_text import plan_text

    raw = _truth()
    raw["profile"].pop("pauses")
    raw["categories"]["B"]["booking"]["capacity"] = 2
    result = plan(_layout_raw(), raw, Target(0.8, 15, 0.9), days=4, seed=2,
                  with_sensitivity=False, slot_capacities=[0, 4, 8])
    rows = result["slots"]
    assert [r["capacity"] for r in rows] == [0, 4, 8]
    assert rows[0]["booked_per_day"] == 0 and rows[1]["booked_per_day"] < rows[2]["booked_per_day"]
    # more booked people never need fewer windows (same seed and days for every row)
    assert rows[0]["windows"] <= rows[1]["windows"] <= rows[2]["windows"]
    assert rows[0]["windows"] < rows[2]["windows"]
    assert all(r["service_level_lower_bound"] >= 0.8 for r in rows)
    page, text = render_plan(result), plan_text(result)
    assert "每时段预约名额" in page and "每时段预约名额" in text
    with pytest.raises(DemandError, match="no booking table"):
        plain = copy.deepcopy(raw)
        plain["categories"]["B"].pop("booking")
        plan(_layout_raw(), plain, Target(0.8, 15, 0.9), days=2, slot_capacities=[1])


def test_plan_screens_on_a_quarter_of_the_days_and_confirms_on_all_of_them() -> None:
    from sim.planning import Target, plan

    raw = _truth()
    raw["profile"].pop("pauses")
    result = plan(_layout_raw(), raw, Target(0.8, 15, 0.9), days=8, seed=2)
    k = result["windows"]
    tried = {t["windows"]: t for t in result["tried"]}
    assert result["screened"]["days"] == 4 and result["screened"]["sizes"]
    assert tried[k]["meets"] and not tried[k - 1]["meets"]  # the fewest on all eight days
    chosen = next(r for r in result["sensitivity"]["rows"] if r["windows"] == k)
    design = next(c for c in chosen["cases"] if c["case"] == "design day")
    # the design-day cell is the search's own run, not a second one
    assert design["service_level_lower_bound"] == tried[k]["service_level_lower_bound"]


def test_replay_keeps_the_window_time_of_services_before_a_transfer_or_a_suspension(
        recorded: list[dict[str, Any]]) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sim.eventlog import iter_days
    from sim.fit_flows import service_parts
    from sim.replay import people_of_day

    layout = parse_layout(_layout_raw())
    day, ts = next(iter(iter_days(tickets_from_events(recorded), layout.timezone)))
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(layout.timezone)).timestamp()
    people = {round(p.arrival, 6): p for p in people_of_day(ts, layout, midnight)}
    checked = 0
    for t in ts:
        parts = service_parts(t)
        if len(parts) >= 2 and parts[-1][1] == "ticket.finished":  # moved on or set aside
            p = people[round(t.issued - midnight, 6)]
            assert p.service >= sum(s for s, _ in parts) - 1e-6  # every service, not the last
            checked += 1
    assert checked > 10
