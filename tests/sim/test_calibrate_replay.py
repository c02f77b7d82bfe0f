"""Calibration and replay from the exported event log, on simulated days whose truth is known."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib
from pathlib import Path

import pytest

from queueing.layout import parse_layout
from sim.calibrate import CalibrationError, calibrate, to_toml
from sim.demand import load_demand, parse_demand
from sim.eventlog import EventLogError, day_to_events, parse_events, read_events, write_events
from sim.model import day_epoch, simulate_day
from sim.population import generate_people
from sim.replay import replay
from sim.results import summarise_day
from sim.streams import Streams

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    layout_raw = tomllib.loads((ROOT / "examples/halls/county.toml").read_text(encoding="utf-8"))
    layout = parse_layout(layout_raw)
    demand = load_demand(ROOT / "examples/demand/county.toml", layout)
    envs: list[dict] = []
    means = []
    seq = tid = 1
    for day in range(3):
        d = dataclasses.replace(demand, date=demand.date + dt.timedelta(days=day))
        people = generate_people(d, Streams(9, day))
        rec = simulate_day(layout, d, people)
        means.append(summarise_day(rec, people, d)["mean"])
        e = day_to_events(rec, people, "county", day_epoch(d, layout), layout.timezone, tid, seq,
                          walk_up=d.walk_up_seconds)
        envs += e
        seq += len(e)
        tid += len(people)
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    write_events(envs, path)
    return {"path": path, "layout_raw": layout_raw, "layout": layout, "demand": demand,
            "means": means}


def test_export_format_is_the_contract(recorded: dict) -> None:
    first = json.loads(recorded["path"].read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"seq", "type", "at", "hall", "data"}
    assert first["type"] == "ticket.issued" and first["at"].endswith("+08:00")
    assert {"id", "category", "channel", "queue_class", "priority",
            "appointment_start"} <= set(first["data"])


def test_calibration_recovers_the_profile(recorded: dict) -> None:
    fitted = calibrate(read_events(recorded["path"]), recorded["layout"], 30)
    demand = parse_demand(tomllib.loads(to_toml(fitted)), recorded["layout"])
    truth = recorded["demand"]
    assert demand.expected_total() == pytest.approx(truth.expected_total(), rel=0.08)
    a_true, a_fit = truth.category("A"), demand.category("A")
    assert a_fit.service.mean == pytest.approx(a_true.service.mean, rel=0.1)
    assert a_fit.service.cv == pytest.approx(a_true.service.cv, rel=0.25)
    assert a_fit.no_show == pytest.approx(0.03, abs=0.02)
    assert demand.walk_up_seconds == pytest.approx(truth.walk_up_seconds) and truth.walk_up_seconds > 0
    assert demand.category("E").appointment_share == pytest.approx(0.2, abs=0.08)


def test_replay_under_its_own_layout_reproduces_the_recorded_waits(recorded: dict) -> None:
    result = replay(read_events(recorded["path"]), recorded["layout_raw"])
    got = result["wait_minutes"]["mean"]["value"]
    recorded_mean = result["recorded"]["wait_minutes"]["mean"]["value"]
    assert got == pytest.approx(recorded_mean, rel=0.15)
    assert recorded_mean == pytest.approx(sum(recorded["means"]) / 3, rel=1e-3)
    assert result["days"] == 3


def test_replay_what_if_more_windows_waits_less(recorded: dict) -> None:
    more = dict(recorded["layout_raw"])
    more["windows"] = [*more["windows"], *({"number": 50 + i, "kind": "comprehensive",
                                            "serves": ["A", "B", "C", "D"]} for i in range(4))]
    base = replay(read_events(recorded["path"]), recorded["layout_raw"])
    better = replay(read_events(recorded["path"]), more)
    assert better["wait_minutes"]["mean"]["value"] < base["wait_minutes"]["mean"]["value"]


def test_bad_logs_are_refused_naming_the_line(recorded: dict) -> None:
    with pytest.raises(EventLogError, match="x:2: not JSON"):
        parse_events(['{"type": "ticket.issued", "at": 1, "data": {}}', "{oops"], "x")
    with pytest.raises(CalibrationError, match="no issued tickets"):
        calibrate([], recorded["layout"])
    env = parse_events(['{"seq": 1, "type": "ticket.issued", "at": "2026-11-23T09:00:00+08:00",'
                        ' "hall": "h", "data": {"id": 1, "category": "Q"}}'])
    with pytest.raises(CalibrationError, match="category 'Q'"):
        calibrate(env, recorded["layout"])
