"""A transfer's answer and a station visit give the estimate every surface gives
(hall.core.estimate.current_estimate): the latest fresh forecast's figures when there is one,
not a second analytic path."""

from __future__ import annotations

from typing import Any

from hall.core.estimate import ForecastTable
from hall.core.registry import HallInfo
from tests.hall.conftest import MONDAY_9AM

API = "/api/halls/tiny"


class _OneForecast:
    """A forecast made at 09:00 whose 09:00 quarter hour tells a joiner of 户籍 20–30 minutes."""

    def table(self, hall: HallInfo, now: float) -> ForecastTable | None:
        return ForecastTable.of(MONDAY_9AM, {"zones": [{"zone": "police", "slots": [
            {"at": MONDAY_9AM, "waiting": {"p50": None}, "person_p50_minutes": 20.0,
             "person_p90_minutes": 30.0}]}]})


def _queue_of_f(hall: Any) -> None:
    assert hall.post(f"{API}/windows/3/sign-in").status_code == 200
    for _ in range(4):  # four ahead of anyone joining F later: more than its three windows
        hall.issue("F")


def _forecast_kept(hall: Any) -> None:
    hall.client.app_state["hall"].ticket_forecasts = _OneForecast()


def test_a_transferred_ticket_is_told_the_forecasts_estimate(hall) -> None:  # type: ignore[no-untyped-def]
    _queue_of_f(hall)
    a = hall.issue("A")  # issued before the forecast is kept: the analytic estimate
    assert a["estimate"]["source"] == "analytic"
    _forecast_kept(hall)
    r = hall.post(f"{API}/tickets/{a['id']}/transfer", json={"category": "F"})
    assert r.status_code == 200, r.text
    est = r.json()["estimate"]
    assert (est["source"], est["p50_minutes"], est["p90_minutes"]) == ("forecast", 20.0, 30.0)


def test_a_station_visit_is_given_the_forecasts_estimate(hall) -> None:  # type: ignore[no-untyped-def]
    _queue_of_f(hall)
    _forecast_kept(hall)
    r = hall.post(f"{API}/windows/3/visit", json={"category": "F"})
    assert r.status_code == 201, r.text
    assert r.json()["estimate"]["source"] == "forecast"
