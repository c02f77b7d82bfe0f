"""GET /api/halls/{hall}/forecast through the real app: made off the request path by the
forecast task (in its worker process) from the hall's exact state, with its age."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from hall.store.models import User, WindowRow
from tests.operations.conftest import App

H = "/api/halls/township"


def _state(app: App) -> Any:
    return app.client.app_state["hall"]


def test_forecast_answers_from_the_halls_state_and_says_when_stale(app: App) -> None:
    none_yet = app.get(f"{H}/forecast", "boss")
    assert none_yet.status_code == 404 and none_yet.json()["error"] == "no_forecast"
    assert app.get(f"{H}/forecast", "clerk").status_code == 403
    st = _state(app)
    with app.db.write() as conn:
        uid = conn.execute(select(User.id).where(User.username == "clerk")).scalar_one()
        conn.execute(update(WindowRow).where(WindowRow.number.in_([1, 2])).values(staff_user_id=uid))
    for _ in range(12):
        r = app.post(f"{H}/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
        assert r.status_code in (200, 201), r.text
    app.client.portal.call(st.forecast.once)  # type: ignore[union-attr]
    body = app.get(f"{H}/forecast", "boss").json()
    assert body["from"] == "09:00" and body["age_seconds"] == 0 and body["stale"] is False
    now = [sum(z["slots"][0]["waiting"]["p50"] for z in body["zones"])]
    assert now == [10]  # twelve wait; the two idle open windows call two of them at once
    later = sum(z["slots"][-1]["waiting"]["p50"] or 0 for z in body["zones"])
    assert later >= 0 and len(body["zones"][0]["slots"]) == 12  # three hours of quarters
    names = {z.code: z.name for z in st.registry.get("township").layout.zones}
    assert [z["name"] for z in body["zones"]] == [names[z["zone"]] for z in body["zones"]]
    assert 0 <= body["service_level"]["p10"] <= body["service_level"]["p90"] <= 1
    app.clock.advance(3 * 180 + 1)
    old = app.get(f"{H}/forecast", "boss").json()
    assert old["stale"] is True and old["age_seconds"] == 541


def test_a_manager_asks_for_a_forecast_now_and_it_is_made_off_the_request(app: App) -> None:
    assert app.post(f"{H}/forecast", "clerk").status_code == 403
    r = app.post(f"{H}/forecast", "boss")
    assert r.status_code == 202 and r.json() == {"started": True}
    body = app.wait_for(f"{H}/forecast", "boss", lambda b: "zones" in b, timeout=60.0)
    assert body["stale"] is False and body["from"] == "09:00"
