"""Issue 16's proof that 潮汐 advice helps: one hall driven twice through a real server by
`hall sim live`'s driver on the same seed (the same people, the same service times), a surge in
one zone while the other is quiet. In one run, the first advice with a button after 10:15 is
applied through POST …/forecast/advice/{id}/apply; the day's realised service level (the
statistics' own, queueing.metrics' definition) must move towards the forecast's target compared
with the run where nobody acts."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hall.app")

from sim.live import SteppedClock, run_live  # noqa: E402
from tests.sim.live_hall import live_hall  # noqa: E402

DAY = dt.date(2026, 11, 10)  # a Tuesday
TZ = "Asia/Shanghai"
SEED = 3
# zone A's two windows serve 7.5 people a quarter hour; 16 come a quarter in 10:00–11:00.
# Zone B's two windows see 2 a quarter: one of them can be lent.
TOML = f"""
[hall]
code = "tide"
name = "潮汐建议测试便民服务中心"
timezone = "{TZ}"
[hours]
periods = [["09:30", "11:45"]]
[[zones]]
code = "zA"
name = "社保区"
[[zones]]
code = "zB"
name = "税务区"
[[categories]]
code = "A"
name = "社保业务"
zone = "zA"
service_minutes = 4
[[categories]]
code = "B"
name = "税务业务"
zone = "zB"
service_minutes = 4
""" + "".join(f"""
[[windows]]
number = {w}
kind = "zone"
zone = "{z}"
serves = ["{c}"]
""" for w, z, c in ((1, "zA", "A"), (2, "zA", "A"), (3, "zB", "B"), (4, "zB", "B")))
SERVICE = {"dist": "lognormal", "mean_minutes": 4, "cv": 0.5}
DEMAND: dict[str, Any] = {
    "profile": {"date": DAY.isoformat(), "start": "09:30", "interval_minutes": 15,
                "cutoff_minutes": 15},
    "categories": {"A": {"arrivals": [5.0, 5.0, 16.0, 16.0, 16.0, 16.0, 4.0, 3.0, 2.0],
                         "service": SERVICE},
                   "B": {"arrivals": [2.0] * 9, "service": SERVICE}},
}
FORECAST = {"demand": DEMAND, "interval_seconds": 300, "stale_intervals": 4, "hours": 3,
            "replications": 40, "advice_replications": 30}


def _at(clock: str) -> float:
    h, m = map(int, clock.split(":"))
    return SteppedClock(DAY, TZ, 0.0).midnight + 3600 * h + 60 * m


def _day(tmp: Path, apply_advice: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the day; the statistics' row for the day and the advice applied (if any)."""
    clock = SteppedClock(DAY, TZ, 9.5 * 3600.0)
    applied: list[dict[str, Any]] = []
    with live_hall(tmp, TOML, "tide", (1, 2, 3, 4), FORECAST, clock) as (client, token, clerks):
        st = client.app_state["hall"]
        auth_h = {"Authorization": f"Bearer {token}"}

        def every() -> None:
            if not apply_advice or applied or clock.now() < _at("10:15"):
                return
            client.portal.call(st.forecast.once)
            body = client.get("/api/halls/tide/forecast", headers=auth_h).json()
            for advice in body.get("advice") or []:
                if advice.get("apply"):
                    r = client.post(f"/api/halls/tide/forecast/advice/{advice['id']}/apply",
                                    headers=auth_h, json={})
                    assert r.status_code == 200, r.text
                    applied.append(advice)
                    return

        summary = run_live("", "tide", tomllib.loads(TOML), DEMAND, seed=SEED, token=token,
                           client=client, poll=5.0, clock=clock, clerks=clerks,
                           every=(300.0, every))
        assert summary["called"] == summary["issued"] >= 90
        stats = client.get("/api/halls/tide/ops/stats", params={"day": DAY.isoformat()},
                           headers=auth_h).json()
    return next(r for r in stats["rows"] if r["dimension"] == "day"), applied


@pytest.fixture
def days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    without, _ = _day(tmp_path_factory.mktemp("tide-without"), apply_advice=False)
    with_, applied = _day(tmp_path_factory.mktemp("tide-with"), apply_advice=True)
    yield without, with_, applied


def test_applied_advice_moves_the_day_towards_its_target(days) -> None:  # type: ignore[no-untyped-def]
    without, with_, applied = days
    assert applied, "the surge gave no advice with a button"
    advice = applied[0]
    # the quiet zone lends a window to the surging one (what a manager would do)
    assert (advice["kind"], advice["from_zone"], advice["to_zone"]) == ("move", "zB", "zA")
    assert advice["service_level"]["with"]["p50"] > advice["service_level"]["without"]["p50"]
    # the same people, the same service times: only the lent window differs. Seed 3 measured
    # 0.35 -> 0.40 of the day called within the target, mean wait 42 -> 23 minutes; the queue
    # built before 10:15 is still there, so the day stays under the target either way.
    assert with_["tickets"] == without["tickets"] and with_["served"] == without["served"]
    assert with_["service_level"] >= without["service_level"] + 0.04
    assert with_["wait_mean"] <= 0.7 * without["wait_mean"]
