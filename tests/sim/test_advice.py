"""潮汐 advice on a small fixed-seed township state where one more window is clearly the answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from queueing.layout import load_layout, parse_layout
from sim.advice import COST, Move, advise, candidates
from sim.forecast import AtWindow, HallState, WaitingTicket, flat_demand, forecast

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = 10 * 3600.0


@pytest.fixture(scope="module")
def township():  # type: ignore[no-untyped-def]
    layout = load_layout(EXAMPLES / "halls" / "township.toml")
    # 12 an hour of 10-minute matters: two windows are just full, three keep up
    demand = flat_demand(layout, dt.date(2026, 11, 23), {"A": 12.0}, {"A": 10.0})
    return layout, demand


def _state(paused: frozenset[int] = frozenset({2})) -> HallState:
    waiting = tuple(WaitingTicket("A", NOW - 600 + 60 * i, NOW - 600 + 60 * i) for i in range(6))
    serving = (AtWindow(1, "A", NOW - 300), AtWindow(4, "A", NOW - 120))
    # window 1 and the help desk serve; window 2's clerk is paused; window 3 has nobody
    return HallState(NOW, waiting, serving, frozenset({1, 4}), {"A": 18}, paused=paused)


def test_opening_the_paused_window_keeps_the_hour_at_risk(township) -> None:  # type: ignore[no-untyped-def]
    layout, demand = township
    state = _state()
    f = forecast(layout, demand, state, hours=2, replications=30, seed=3)
    assert 10 in f.at_risk
    (advice,) = advise(layout, demand, state, [10], replications=30, seed=3, target=0.8)
    assert advice.hour == 10 and advice.keeps_target
    # window 3 serves what window 2 does: the paused one (its clerk is there) is the one tried
    assert advice.move == Move("open", window=2, at=NOW, paused=True)
    assert advice.without.p50 < 0.8 <= advice.with_move.p50
    assert advice.with_move.p10 <= advice.with_move.p50 <= advice.with_move.p90
    assert advice.gain.p50 > 0 and advice.gain.p10 >= 0  # common numbers: it never hurts here
    # the same state and seed give the same advice
    assert advise(layout, demand, state, [10], replications=30, seed=3, target=0.8) == [advice]


def test_the_cheapest_keeping_move_wins_over_refusing_people(township) -> None:  # type: ignore[no-untyped-def]
    layout, demand = township
    moves = candidates(layout, demand, _state(), 10, {"service": 0.5})
    kinds = [m.kind for m in moves]
    assert kinds.count("open") == 1 and "stop_issuing" in kinds  # window 3 is 2's twin
    assert COST["open"] < COST["stop_issuing"]
    # nobody paused: a closed window is the one to open (someone must be sent there)
    (advice,) = advise(layout, demand, _state(frozenset()), [10], replications=20, seed=3)
    assert advice.move.kind == "open" and advice.move.window == 2 and not advice.move.paused


def test_an_hour_no_move_helps_gets_no_advice(township) -> None:  # type: ignore[no-untyped-def]
    layout, demand = township
    quiet = replace(_state(), waiting=(), serving=(), open_windows=frozenset({1, 2, 3, 4}),
                    paused=frozenset())
    assert advise(layout, replace(demand), quiet, [10], replications=10, seed=3) == []


def test_when_one_window_is_not_enough_the_fewest_that_keep_the_target(township) -> None:  # type: ignore[no-untyped-def]
    layout, _ = township
    # 18 an hour and one window open: one more is not enough, the whole hall is
    demand = flat_demand(layout, dt.date(2026, 11, 23), {"A": 18.0}, {"A": 10.0})
    waiting = tuple(WaitingTicket("A", NOW - 600 + 60 * i, NOW - 600 + 60 * i) for i in range(6))
    state = HallState(NOW, waiting, (AtWindow(1, "A", NOW - 300),), frozenset({1}), {"A": 30},
                      paused=frozenset({4}))
    (advice,) = advise(layout, demand, state, [10], replications=30, seed=3)
    assert advice.move.kind == "open_many" and advice.keeps_target
    # the paused help desk first (its clerk is there), then the closed windows by number
    assert advice.move.windows == (4, 2, 3) and advice.move.paused_windows == (4,)
    assert advice.without.p50 < 0.8 <= advice.with_move.p50


TWO_ZONES = {
    "hall": {"code": "two", "name": "两区大厅", "timezone": "Asia/Shanghai"},
    "hours": {"periods": [["08:30", "12:00"], ["14:00", "17:00"]]},
    "zones": [{"code": "service", "name": "综合服务区"}, {"code": "police", "name": "公安服务区"}],
    "categories": [{"code": "A", "name": "综合业务", "zone": "service", "service_minutes": 10},
                   {"code": "F", "name": "户籍办理", "zone": "police", "service_minutes": 8}],
    "windows": [{"number": 1, "name": "综合窗口1", "kind": "zone", "zone": "service", "serves": ["A"]},
                {"number": 8, "name": "户籍窗口1", "kind": "zone", "zone": "police", "serves": ["F"]},
                {"number": 9, "name": "户籍窗口2", "kind": "zone", "zone": "police", "serves": ["F"]}],
}


def test_a_quiet_zone_lends_a_window_before_anyone_more_is_called_in() -> None:
    layout = parse_layout(TWO_ZONES)
    # 综合 has one window for 7 an hour of 10-minute matters; 户籍 two windows for 2 an hour
    demand = flat_demand(layout, dt.date(2026, 11, 23), {"A": 7.0, "F": 2.0}, {"A": 10.0, "F": 8.0})
    waiting = tuple(WaitingTicket("A", NOW - 600 + 60 * i, NOW - 600 + 60 * i) for i in range(5))
    state = HallState(NOW, waiting, (AtWindow(1, "A", NOW - 300),), frozenset({1, 8, 9}),
                      {"A": 10, "F": 3})
    # hour 11 also tries the lunch at 12:00 of every window (the cheapest kind): not enough
    kinds = [m.kind for m in candidates(layout, demand, state, 11, {"service": 0.3, "police": 1.0})]
    assert "delay_lunch" in kinds and "move" in kinds and "open" not in kinds  # none closed
    (advice,) = advise(layout, demand, state, [11], replications=30, seed=3)
    assert advice.move == Move("move", window=9, from_zone="police", to_zone="service",
                               categories=("A",), at=NOW)
    assert advice.keeps_target and advice.without.p50 < 0.8 <= advice.with_move.p50
