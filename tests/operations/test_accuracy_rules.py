"""The estimate a ticket is given (hall.core.estimate) and the scoring of estimates and
forecasts (hall.operations.accuracy.rules), pure: small hand-made cases."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from hall.core.estimate import ForecastTable, Given, estimate_words, given_estimate, position_factor
from hall.core.queries import WaitEstimate
from hall.operations.accuracy.rules import (
    ROW_COLUMNS,
    EstimateFact,
    SlotFact,
    WaitingCounter,
    WaitSpan,
    accuracy_rows,
    score_slots,
    score_tickets,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = 1_772_499_600.0  # 2026-03-03 09:00 in Shanghai


def _body(*slots: tuple[float, float | None, float | None, float | None]) -> dict[str, object]:
    return {"zones": [{"zone": "z", "slots": [
        {"at": at, "waiting": {"p10": None, "p50": w, "p90": None}, "person_p50_minutes": p50,
         "person_p90_minutes": p90} for at, w, p50, p90 in slots]}]}


TABLE = ForecastTable.of(T0, _body((T0, 10.0, 20.0, 30.0), (T0 + 900, 4.0, 8.0, 12.0),
                                   (T0 + 1800, 0.0, None, None)))
OK = WaitEstimate(ahead=10, p50_minutes=5.0, p90_minutes=9.0, state="ok")


def _ahead(n: int) -> WaitEstimate:
    return WaitEstimate(ahead=n, p50_minutes=1.0, p90_minutes=2.0, state="ok")


def test_a_ticket_finding_the_queue_the_forecast_expected_gets_the_slots_figures() -> None:
    g = given_estimate(OK, "z", ["z"], 2, T0, TABLE)  # ten ahead: the forecast's median queue
    assert (g.p50_minutes, g.p90_minutes, g.source, g.forecast_at) == (20.0, 30.0, "forecast", T0)
    later = given_estimate(_ahead(4), "z", ["z"], 2, T0 + 900, TABLE)  # the next quarter hour
    assert (later.p50_minutes, later.p90_minutes) == (8.0, 12.0)
    assert g.to_dict() == {"ahead": 10, "p50_minutes": 20.0, "p90_minutes": 30.0, "state": "ok",
                           "source": "forecast"}


def test_the_people_ahead_scale_the_figures_against_the_queue_the_forecast_expected() -> None:
    assert position_factor(10, 10.0) == 1.0 and position_factor(21, 10.0) == 2.0
    assert position_factor(100, 10.0) == 3.0 and position_factor(0, 10.0) == 0.2  # bounded
    assert position_factor(5, None) == 1.0
    long = given_estimate(_ahead(21), "z", ["z"], 2, T0, TABLE)
    assert (long.p50_minutes, long.p90_minutes) == (40.0, 60.0)
    # between slot starts the expected queue is interpolated: 10 → 4 over the quarter hour
    mid = given_estimate(_ahead(7), "z", ["z"], 2, T0 + 450, TABLE)
    assert (mid.p50_minutes, mid.p90_minutes) == (20.0, 30.0)


def test_a_slot_begun_before_its_forecast_takes_the_next_slots_queue() -> None:
    made_later = ForecastTable(T0 + 300, TABLE.zones)  # slot T0 began before it was made
    g = given_estimate(_ahead(4), "z", ["z"], 2, T0 + 400, made_later)
    assert (g.p50_minutes, g.p90_minutes) == (20.0, 30.0)  # four ahead, as the 09:15 queue


@pytest.mark.parametrize("est, zone, at, table", [
    (OK, "z", T0 + 300, None),  # no fresh forecast
    (OK, "other", T0 + 300, TABLE),  # a zone the forecast does not have
    (OK, "z", T0 + 1900, TABLE),  # a slot where the forecast had nobody join
    (OK, "z", T0 + 9000, TABLE),  # past the forecast's horizon
    (WaitEstimate(0, 0.0, 0.0, "ok"), "z", T0 + 300, TABLE),  # a free window calls it at once
    (WaitEstimate(1, 0.4, 1.2, "ok"), "z", T0 + 300, TABLE),  # one ahead, two windows: no queue
    (WaitEstimate(3, None, None, "no_window", "2026-03-03T14:00:00+08:00"), "z", T0 + 300, TABLE),
])
def test_without_a_usable_forecast_slot_the_analytic_estimate_is_given(
        est: WaitEstimate, zone: str, at: float, table: ForecastTable | None) -> None:
    g = given_estimate(est, zone, [zone], 2, at, table)
    assert g.source == "analytic" and g.forecast_at is None
    assert (g.ahead, g.p50_minutes, g.p90_minutes, g.state, g.next_open_at) == (
        est.ahead, est.p50_minutes, est.p90_minutes, est.state, est.next_open_at)


def test_tickets_are_scored_by_day_hour_category_and_source() -> None:
    facts = [
        EstimateFact(1, "A", T0, 10.0, 20.0, "forecast", 5.0),  # under both
        EstimateFact(2, "A", T0 + 60, 10.0, 20.0, "forecast", 15.0),  # under p90 only
        EstimateFact(3, "B", T0 + 3600, 10.0, 20.0, "analytic", 25.0),  # under neither
        EstimateFact(4, "B", T0 + 3600, 10.0, 20.0, "forecast", 10.0),  # at p50 counts half
        EstimateFact(5, "B", T0, 10.0, 20.0, "forecast", None),  # not called: not scored
        EstimateFact(6, "B", T0, None, None, "analytic", 3.0),  # no window was open: no figures
    ]
    s = score_tickets(facts, TZ)
    assert s["day"] == {"count": 4, "share_under_p50": 0.375, "share_under_p90": 0.75,
                        "mean_abs_error_minutes": 6.25, "told_no_wait": 0, "no_wait_kept": None}
    assert s["hour"]["09:00"]["count"] == 2 and s["hour"]["10:00"]["share_under_p50"] == 0.25
    assert s["category"]["B"]["share_under_p90"] == 0.5
    assert s["source"]["forecast"]["share_under_p90"] == 1.0
    assert s["source"]["analytic"]["count"] == 1


def test_waiting_is_counted_from_issue_until_the_wait_ended() -> None:
    spans = [WaitSpan("z", 0.0, 10.0), WaitSpan("z", 5.0, None), WaitSpan("z", 10.0, 20.0)]
    c = WaitingCounter(spans)
    assert [c.at(t) for t in (-1.0, 0.0, 9.9, 10.0, 20.0, 99.0)] == [0, 1, 2, 2, 1, 1]


def test_forecast_slots_are_scored_once_they_happened_and_only_after_the_forecast_was_made() -> None:
    spans = [WaitSpan("z", 0.0, 1000.0), WaitSpan("z", 0.0, 2000.0), WaitSpan("y", 0.0, None)]
    made = 100.0
    slots = [
        SlotFact(made, "z", 0.0, 0.0, 5.0, 9.0),  # began before the forecast saw the hall
        SlotFact(made, "z", 900.0, 1.0, 2.0, 3.0),  # two waited: inside, median right
        SlotFact(made, "z", 1800.0, 2.0, 3.0, 4.0),  # one waited: outside, median off by 2
        SlotFact(made, "y", 900.0, 0.0, 0.0, 0.0),  # one waited: outside, off by 1
        SlotFact(made, "z", 2700.0, 0.0, 0.0, 0.0),  # not yet happened at `now`
        SlotFact(made, "y", 1800.0, None, None, None),  # nobody simulated: no band
    ]
    s = score_slots(slots, spans, now=2000.0)
    assert s["day"] == {"slots": 3, "band_coverage": round(1 / 3, 4), "median_abs_error": 1.0}
    assert s["zone"]["z"] == {"slots": 2, "band_coverage": 0.5, "median_abs_error": 1.0}
    assert s["forecast"] == [{"computed_at": made, **s["day"]}]


def test_the_rows_hold_every_score_once() -> None:
    scores = {"day": "2026-03-03",
              "estimates": score_tickets([EstimateFact(1, "A", T0, 10.0, 20.0, "forecast", 5.0)], TZ),
              "forecasts": score_slots([SlotFact(0.0, "z", 900.0, 0.0, 1.0, 2.0)],
                                       [WaitSpan("z", 0.0, None)], now=1000.0)}
    rows = accuracy_rows(scores)
    assert [(r["dimension"], r["key"]) for r in rows] == [
        ("day", "2026-03-03"), ("hour", "09:00"), ("category", "A"), ("source", "forecast"),
        ("zone", "z")]
    assert rows[0]["under_p50"] == 1.0 and rows[0]["band_coverage"] == 1.0
    assert rows[-1]["slots"] == 1 and rows[-1]["estimates"] is None
    # every row carries every column (the statistics page reads them all: a missing one was a 500)
    assert all(set(r) == set(ROW_COLUMNS) for r in rows)
    assert rows[1]["slots"] is None and rows[1]["told_no_wait"] == 0


def test_a_wait_is_scored_in_the_whole_minutes_people_read() -> None:
    facts = [EstimateFact(1, "A", T0, 0.0, 0.0, "analytic", 0.3),  # "马上就到", called in 20 s
             EstimateFact(2, "A", T0, 4.6, 8.2, "forecast", 5.4),  # read 5–8: five is on the p50
             EstimateFact(3, "A", T0, 4.4, 8.2, "forecast", 4.6)]  # read 4–8: five is over p50
    s = score_tickets(facts, TZ)["day"]
    # "马上就到" is a promise kept (called within the minute); of the other two, 5 read against
    # 5 is a tie (half) and 5 against 4 is over
    assert (s["told_no_wait"], s["no_wait_kept"]) == (1, 1.0)
    assert (s["share_under_p50"], s["share_under_p90"]) == (0.25, 1.0)


def test_the_estimate_reads_as_the_pages_read_it() -> None:
    def g(p50: float | None, p90: float | None, source: str = "analytic", state: str = "ok") -> Given:
        return Given(3, p50, p90, state, source)

    assert estimate_words(g(0.0, 0.4)) == "马上就到"
    assert estimate_words(g(4.6, 5.4)) == "约 5 分钟"
    assert estimate_words(g(4.4, 8.5)) == "4–9 分钟"
    assert estimate_words(g(12.0, 20.0, "forecast")) == "12–20 分钟（依据实时客流预测）"
    assert estimate_words(g(None, None, state="no_window")) is None
