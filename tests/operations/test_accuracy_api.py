"""Estimates from the live forecast and their scoring, through the real app: the kiosk's answer
says its source and is stored with the ticket, the progress page gives the same one, and the
day's scores reach GET …/accuracy, the statistics (API, page, export) and /metrics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from hall.store.models import ForecastSlotRow, TicketEstimate, User, WindowRow
from tests.operations.conftest import App

H = "/api/halls/township"


def _state(app: App) -> Any:
    return app.client.app_state["hall"]


def _forecast_now(app: App) -> None:
    st = _state(app)
    app.client.portal.call(st.forecast.once)
    app.client.portal.call(st.forecasts.drain)


def test_estimates_come_from_the_fresh_forecast_and_are_scored_against_the_calls(app: App) -> None:
    with app.db.write() as conn:
        uid = conn.execute(select(User.id).where(User.username == "clerk")).scalar_one()
        conn.execute(update(WindowRow).where(WindowRow.number == 1).values(staff_user_id=uid))
    before = [app.post(f"{H}/tickets", "kiosk", {"category": "A"}).json() for _ in range(8)]
    assert {t["estimate"]["source"] for t in before} == {"analytic"}  # no forecast yet
    _forecast_now(app)
    with app.db.read() as conn:
        assert conn.execute(select(ForecastSlotRow.zone).where(ForecastSlotRow.hall_id == 1)).first()
    mine = app.post(f"{H}/tickets", "kiosk", {"category": "A"}).json()
    est = mine["estimate"]
    assert est["source"] == "forecast" and est["state"] == "ok" and est["ahead"] == 8
    assert 0 < est["p50_minutes"] <= est["p90_minutes"]
    assert mine["eta"] == {"p50_minutes": est["p50_minutes"], "p90_minutes": est["p90_minutes"]}
    shown = app.get(f"/api/progress/{mine['progress_token']}").json()
    assert shown["estimate"] == est  # one estimate on every surface
    with app.db.read() as conn:
        kept = conn.execute(select(TicketEstimate.source, TicketEstimate.p50_minutes, TicketEstimate.p90_minutes)
                            .where(TicketEstimate.ticket_id == mine["id"])).one()
    assert tuple(kept) == ("forecast", est["p50_minutes"], est["p90_minutes"])

    # Window 1 calls everyone, one every ten minutes; the nine waits are scored
    for _ in range(9):
        app.clock.advance(600)
        for action in ("call", "start", "finish"):
            r = app.post(f"{H}/windows/1/{action}", "clerk")
            assert r.status_code == 200, r.text
    body = app.get(f"{H}/accuracy", "boss").json()
    day = body["estimates"]["day"]
    assert day["count"] == 9 and 0 <= day["share_under_p50"] <= day["share_under_p90"] <= 1
    assert body["estimates"]["source"]["forecast"]["count"] == 1
    assert body["estimates"]["source"]["analytic"]["count"] == 8
    assert set(body["estimates"]["category"]) == {"A"}
    fc = body["forecasts"]
    assert fc["day"]["slots"] >= 5 and 0 <= fc["day"]["band_coverage"] <= 1  # 90 minutes: 09:15..10:30
    assert [f["slots"] for f in fc["forecast"]] == [fc["day"]["slots"]]

    stats = app.get(f"{H}/ops/stats", "boss").json()
    assert stats["accuracy"]["estimates"] == body["estimates"]
    csv = app.get(f"{H}/accuracy", "boss", format="csv")
    assert csv.status_code == 200 and "实际少于中位数占比" in csv.content.decode("utf-8-sig")
    assert "实时客流预测" in csv.content.decode("utf-8-sig")
    xlsx = app.get(f"{H}/accuracy", "boss", format="xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert app.get(f"{H}/accuracy", "boss", format="pdf").status_code == 422
    assert app.get(f"{H}/accuracy", "clerk").status_code == 403

    # /metrics holds the day's scores as of the last forecast
    _forecast_now(app)
    metrics = app.client.get("/metrics").text
    assert 'hall_estimates_scored{hall="township"} 9.0' in metrics
    assert 'hall_estimate_share_under_p90{hall="township"}' in metrics
    assert 'hall_forecast_band_coverage{hall="township"}' in metrics


def test_a_stale_forecast_gives_way_to_the_analytic_estimate(app: App) -> None:
    with app.db.write() as conn:
        uid = conn.execute(select(User.id).where(User.username == "clerk")).scalar_one()
        conn.execute(update(WindowRow).where(WindowRow.number == 1).values(staff_user_id=uid))
    for _ in range(6):
        app.post(f"{H}/tickets", "kiosk", {"category": "A"})
    _forecast_now(app)
    assert app.post(f"{H}/tickets", "kiosk", {"category": "A"}).json()["estimate"]["source"] == "forecast"
    app.clock.advance(3 * 180 + 1)  # three forecast intervals without a new one
    late = app.post(f"{H}/tickets", "kiosk", {"category": "A"}).json()
    assert late["estimate"]["source"] == "analytic"
    with app.db.read() as conn:
        sources = conn.execute(select(TicketEstimate.source).order_by(TicketEstimate.ticket_id)).scalars().all()
    assert sources == ["analytic"] * 6 + ["forecast", "analytic"]


def test_the_statistics_page_shows_the_scores(app: App) -> None:
    page = app.client.get("/ops/township/stats", headers={"Authorization": f"Bearer {app.tokens['boss']}"})
    assert page.status_code == 200
    assert "等候预估与客流预测准确度" in page.text and 'id="t-accuracy"' in page.text
    assert "暂无可对照的数据" in page.text  # nothing issued yet


def test_forecast_slots_are_kept_as_long_as_the_statistics_reach(app: App) -> None:
    from hall.core.registry import HallRegistry
    from hall.operations.accuracy.store import KEEP_DAYS, record_forecast

    hall = HallRegistry(app.db).get("township")
    now = app.clock.now()
    body = {"zones": [{"zone": "service", "slots": [{"at": now, "waiting": {"p10": 1, "p50": 2, "p90": 3}}]}]}
    with app.db.write() as conn:
        record_forecast(conn, hall, now - (KEEP_DAYS + 1) * 86400.0, body)
        record_forecast(conn, hall, now - (KEEP_DAYS - 1) * 86400.0, body)
        assert record_forecast(conn, hall, now, body) == 1
        assert record_forecast(conn, hall, now, body) == 1  # the same forecast again: replaced
        kept = conn.execute(select(ForecastSlotRow.computed_at)).scalars().all()
    assert sorted(kept) == [now - (KEEP_DAYS - 1) * 86400.0, now]
