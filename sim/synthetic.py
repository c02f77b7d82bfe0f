"""Recorded days whose truth is known: simulated days written as the server's event export.

`full_day` is the one way a day is simulated with everything the profile draws per day (clerks'
speeds, absent clerks, short pauses); the runner and the log writer both use it, so a log made
here is what a planning run would have seen. `recorded_log` writes consecutive days (one date
each) as exported envelopes, ready for `sim.calibrate.calibrate` — how the calibrate → run tests
check that each fitted parameter comes back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from queueing.layout import HallLayout, parse_layout
from sim.demand import Demand, parse_demand
from sim.eventlog import day_to_events
from sim.flows import draw_pauses
from sim.model import DayRecord, day_epoch, simulate_day
from sim.population import Person, booking_draws, generate_people
from sim.servicetime import absent_windows, staff_speeds
from sim.streams import Streams

__all__ = ["full_day", "recorded_log", "recorded_bookings"]


def full_day(layout: HallLayout, demand: Demand, people: Sequence[Person], streams: Streams,
             periods: Mapping[int, Sequence[tuple[float, float]]] | None = None) -> DayRecord:
    """One day with the day's own draws of clerks: speeds, absences and pauses."""
    return simulate_day(layout, demand, people, periods=periods,
                        speeds=staff_speeds(demand.service_factors, layout, streams),
                        off_today=absent_windows(demand.absence, layout, streams),
                        pauses=draw_pauses(demand.pauses, layout, streams))


def recorded_log(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any], days: int,
                 seed: int, hall: str = "synthetic") -> list[dict[str, Any]]:
    """`days` consecutive simulated days as exported envelopes (with `at_epoch`, as
    `sim.eventlog.parse_events` gives them)."""
    layout = parse_layout(layout_raw)
    demand = parse_demand(demand_raw, layout)
    envs: list[dict[str, Any]] = []
    tid = seq = 1
    for day in range(days):
        d = dataclasses.replace(demand, date=demand.date + dt.timedelta(days=day))
        streams = Streams(seed, day)
        people = generate_people(d, streams)
        record = full_day(layout, d, people, streams)
        epoch = day_epoch(d, layout)
        e = day_to_events(record, people, hall, epoch, layout.timezone, tid, seq,
                          walk_up=d.walk_up_seconds)
        envs += e
        seq += len(e)
        tid += len(people)
    for env in envs:
        env["at_epoch"] = dt.datetime.fromisoformat(env["at"]).timestamp()
    return envs


def recorded_bookings(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any], days: int,
                      seed: int) -> list[dict[str, Any]]:
    """The booking system's records of the days `recorded_log` writes: {category, start (epoch
    seconds), status} per booked place, kept or missed."""
    layout = parse_layout(layout_raw)
    demand = parse_demand(demand_raw, layout)
    out: list[dict[str, Any]] = []
    for day in range(days):
        d = dataclasses.replace(demand, date=demand.date + dt.timedelta(days=day))
        streams = Streams(seed, day)
        epoch = day_epoch(d, layout)
        for c in d.categories:
            out += [{"category": c.code, "start": epoch + t, "status": status}
                    for t, status in booking_draws(c, d, streams)]
    return out
