"""潮汐 advice through the real app: made by the forecast task beside the forecast, applied by
its button through the same core action a manual change uses, audited, refused when stale."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from hall.operations.forecast.store import Latest
from hall.store.models import AuditEntry, EventRow, Hall, User, WindowRow
from tests.operations.conftest import App

H = "/api/halls/township"
# 12 an hour of 10-minute matters from 08:30: two windows are just full, three keep up
DEMAND = {"profile": {"name": "test", "date": "2026-03-03", "start": "08:30", "interval_minutes": 30,
                      "cutoff_minutes": 30, "service_level_minutes": 15, "no_show": 0.0},
          "categories": {"A": {"arrivals": [6.0] * 7 + [0.0] * 4 + [6.0] * 6,
                               "service": {"dist": "exponential", "mean_minutes": 10}}}}


def _state(app: App) -> Any:
    return app.client.app_state["hall"]


def _hall_at_risk(app: App) -> None:
    """Windows 1 and 4 serve, window 2's clerk has paused, window 3 is closed; six wait."""
    st = _state(app)
    with app.db.write() as conn:
        uid = conn.execute(select(User.id).where(User.username == "clerk")).scalar_one()
        conn.execute(update(WindowRow).where(WindowRow.number.in_([1, 2, 4])).values(staff_user_id=uid))
        conn.execute(update(WindowRow).where(WindowRow.number == 2).values(paused=True, pause_reason="午休"))
        stamp = conn.execute(select(Hall.updated_at)).scalar_one()
        conn.execute(update(Hall).values(settings={"forecast": {"demand": DEMAND}}, updated_at=stamp + 1))
    st.registry.refresh()
    for _ in range(6):
        r = app.post(f"{H}/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
        assert r.status_code in (200, 201), r.text
    app.client.portal.call(st.forecast.once)  # type: ignore[union-attr]


def test_the_advice_opens_the_paused_window_through_its_resume(app: App) -> None:
    _hall_at_risk(app)
    body = app.get(f"{H}/forecast", "boss").json()
    assert body["at_risk"], body["hours"]
    first = body["advice"][0]
    assert first["kind"] == "open" and first["window"] == 2 and first["apply"] == "resume"
    assert first["hour"] == body["at_risk"][0] and first["keeps_target"] is True
    sl = first["service_level"]
    assert sl["without"]["p50"] < body["target"] <= sl["with"]["p50"]
    url = f"{H}/forecast/advice/{first['id']}/apply"
    assert app.post(url, "clerk").status_code == 403  # manager auth, like other manager writes
    assert app.post(f"{H}/forecast/advice/not%20an%20id/apply", "boss").status_code == 422
    gone = app.post(f"{H}/forecast/advice/abc-7/apply", "boss")  # not in the latest forecast
    assert gone.status_code == 409 and gone.json()["error"] == "advice_stale"
    # the clerk resumed by hand since the forecast: the advice's state no longer holds
    with app.db.write() as conn:
        conn.execute(update(WindowRow).where(WindowRow.number == 2).values(paused=False))
    r = app.post(url, "boss")
    assert r.status_code == 409 and r.json()["error"] == "advice_stale"
    with app.db.write() as conn:
        conn.execute(update(WindowRow).where(WindowRow.number == 2).values(paused=True))
        assert "forecast.advice" not in set(conn.execute(select(AuditEntry.action)).scalars())
    r = app.post(url, "boss")
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == {"window": 2, "state": "idle"}
    with app.db.read() as conn:
        assert conn.execute(select(WindowRow.paused).where(WindowRow.number == 2)).scalar_one() is False
        types = [e.type for e in conn.execute(select(EventRow.type).order_by(EventRow.seq.desc()).limit(1))]
        assert types == ["window.resumed"]  # the screens and the bridge get what a manual resume sends
        actions = {a.action: a for a in conn.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.detail))}
    assert "window.resume" in actions and actions["forecast.advice"].target == first["id"]
    assert actions["forecast.advice"].detail["service_level"] == sl
    again = app.post(url, "boss")  # the window is open now: the advice no longer holds
    assert again.status_code == 409 and again.json()["error"] == "advice_stale"


def test_advice_of_a_stale_forecast_is_refused(app: App) -> None:
    st = _state(app)
    advice = {"id": "1-0", "hour": "10:00", "kind": "open", "window": 2, "windows": [2],
              "apply": "resume", "expects": {"paused": [2]}, "service_level": {}}
    st.forecasts.put(st.registry.get("township").id, Latest(float(st.clock.now()), {"advice": [advice]}))
    app.clock.advance(3 * 180 + 1)  # three recompute intervals without a new forecast
    r = app.post(f"{H}/forecast/advice/1-0/apply", "boss")
    assert r.status_code == 409 and r.json()["error"] == "advice_stale"


def test_a_move_goes_through_the_tide_retarget(app: App) -> None:
    st = _state(app)
    now = float(st.clock.now())
    move = {"id": "1-0", "hour": "10:00", "kind": "move", "window": 3, "windows": [3], "categories": ["A", "B"],
            "apply": "retarget", "expects": {"serves": ["A", "B", "C"]}, "service_level": {}}
    manual = {**move, "id": "1-1", "kind": "delay_lunch", "apply": None, "expects": {}}
    st.forecasts.put(st.registry.get("township").id, Latest(now, {"advice": [move, manual]}))
    r = app.post(f"{H}/forecast/advice/1-1/apply", "boss")
    assert r.status_code == 409 and r.json()["error"] == "advice_manual"
    r = app.post(f"{H}/forecast/advice/1-0/apply", "boss")
    assert r.status_code == 200, r.text
    assert r.json()["applied"]["serves"] == ["A", "B"]
    assert sorted(st.registry.get("township").layout.window(3).categories) == ["A", "B"]
    with app.db.read() as conn:
        assert "window.skills" in set(conn.execute(select(AuditEntry.action)).scalars())
    again = app.post(f"{H}/forecast/advice/1-0/apply", "boss")  # serves A, B now: stale
    assert again.status_code == 409 and again.json()["error"] == "advice_stale"
