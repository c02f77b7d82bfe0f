"""Booked people (appointments on slots) go through the hall's flows like walk-ins (issue 15):
transfers, 一事联办 and 挂起, drawn on their own streams so the walk-ins' people do not move."""

from __future__ import annotations

import math
from typing import Any

from queueing.layout import parse_layout
from sim.demand import parse_demand
from sim.model import OUTCOME_SERVED, simulate_day
from sim.population import Population, generate_people
from sim.streams import Streams
from tests.sim.test_flows import _layout_raw  # 8 无差别 windows

DAY = [10.0] * 7 + [0.0] * 4 + [10.0] * 5


def _raw(flows: bool) -> dict[str, Any]:
    a: dict[str, Any] = {"arrivals": DAY,
                         "booking": {"slot_minutes": 15, "capacity": 8, "fill": 0.9,
                                     "no_show": 0.1}}
    if flows:
        a.update(transfer={"share": 0.3, "to_category": "B",
                           "service": {"dist": "lognormal", "mean_minutes": 5, "cv": 0.4}},
                 multi_matter={"share": 0.25, "matters": 3},
                 suspend={"share": 0.2, "returns": 1.0, "return_delay": 10, "at": 0.5})
    return {"profile": {"date": "2026-11-23", "start": "08:30", "interval_minutes": 30,
                        "cutoff_minutes": 30,
                        "service": {"dist": "lognormal", "mean_minutes": 6, "cv": 0.5}},
            "categories": {"A": a, "B": {"arrivals": [2.0] * 7 + [0.0] * 4 + [2.0] * 5}}}


def _people(flows: bool, day: int = 0) -> tuple[Any, Population]:
    layout = parse_layout(_layout_raw())
    demand = parse_demand(_raw(flows), layout)
    return demand, generate_people(demand, Streams(9, day))


def _booked(pop: Population) -> list[int]:
    return [i for i in range(len(pop)) if pop.appointment_start[i] is not None]


def test_booked_people_draw_transfers_multi_matter_and_suspensions() -> None:
    _, pop = _people(True)
    booked = _booked(pop)
    assert len(booked) > 130  # 8 places × 0.9 × 0.9 × 4 slots an hour × 6 hours ≈ 155
    share = {
        "transfer": sum(pop.transfer_service[i] == pop.transfer_service[i] for i in booked),
        "multi": sum(pop.matters_n[i] == 3 for i in booked),
        "suspend": sum(not math.isnan(pop.suspend_at[i]) for i in booked),
    }
    n = len(booked)
    # stated tolerance: each share within 0.1 of the profile's (about 2.7 sd over ~155 booked)
    assert abs(share["transfer"] / n - 0.3) < 0.1
    assert abs(share["multi"] / n - 0.25) < 0.1
    assert abs(share["suspend"] / n - 0.2) < 0.1


def test_booked_flows_leave_the_walk_ins_people_unchanged() -> None:
    _, plain = _people(False)
    _, flowing = _people(True)
    walk = [i for i in range(len(plain)) if plain.appointment_start[i] is None]
    walk_f = [i for i in range(len(flowing)) if flowing.appointment_start[i] is None]
    assert [plain.arrival[i] for i in walk] == [flowing.arrival[i] for i in walk_f]
    assert [plain.arrival[i] for i in _booked(plain)] == [flowing.arrival[i]
                                                         for i in _booked(flowing)]


def test_a_booked_person_is_transferred_suspended_and_served_in_the_day() -> None:
    demand, pop = _people(True)
    record = simulate_day(parse_layout(_layout_raw()), demand, pop)
    booked = set(_booked(pop))
    kinds = {seg.kind for i, segs in record.segments.items() if i in booked for seg in segs}
    assert kinds == {"transferred", "suspended"}
    moved = [i for i, segs in record.segments.items() if i in booked
             and any(s.kind == "transferred" for s in segs)]
    # the transferred booked person waits again in B and is served there
    assert all(record.outcome[i] == OUTCOME_SERVED for i in moved)
    assert all(any(s.to_category == "B" for s in record.segments[i]) for i in moved)
