"""One computation per fact (hall.core.queries): every surface that shows people ahead, the
wait estimate, the service level or the longest wait shows the same figure for the same input."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest

from hall.cli.export import export_events
from hall.core.issuing import CheckedIn, issue_ticket, parse_issue
from hall.core.registry import HallRegistry
from hall.core.tx import run_write
from hall.operations.background import person_notices
from hall.operations.config import OpsConfig
from queueing import metrics
from queueing.estimate import estimate_wait, service_stats

API = "/api/halls/tiny"


def _crypto(hall: Any) -> Any:
    return hall.client.app.state.hall.crypto


def _progress(hall: Any, ticket: dict[str, Any]) -> dict[str, Any]:
    r = hall.client.get(f"/api/progress/{ticket['progress_token']}")
    assert r.status_code == 200, r.text
    return r.json()


def _ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()


def test_kiosk_progress_page_and_notice_give_one_number(hall) -> None:
    # Windows 1 and 2 serve A, B and F, so all three compete; window 3 (F only) and window 2
    # are closed: only the clerk at window 1 works. Every ticket below is issued at the same
    # instant, so only the id orders those of equal queue key.
    _ok(hall.post(f"{API}/windows/1/sign-in"))
    first = hall.issue("A")
    hall.issue("B")
    hall.issue("A", priority="elderly")
    hall.issue("F")
    hall.issue("A")
    _ok(hall.post(f"{API}/windows/1/call", json={"ticket": first["id"]}))
    mine = hall.issue("F", phone="13912345678")
    # Four of other categories and classes wait before it; none of its own category but one.
    assert mine["ahead"] == 4
    shown = _progress(hall, mine)
    assert shown["ahead"] == mine["ahead"]
    assert shown["estimate"] == mine["estimate"] and shown["eta"] == mine["eta"]
    info = HallRegistry(hall.db).get("tiny")
    cfg = OpsConfig.build(info.layout, {"operations": {"notify_ahead": 10}})
    with hall.db.write() as conn:
        sent = person_notices(conn, info, cfg, _crypto(hall), hall.clock.now())
    # the notice gives the kiosk's estimate too, in the kiosk's words (whole minutes)
    wait = f"{int(mine['eta']['p50_minutes'] + 0.5)}–{int(mine['eta']['p90_minutes'] + 0.5)} 分钟"
    assert sent == [("13912345678", f"您的{mine['number']}号前面还有{mine['ahead']}人，预计还需等候{wait}，请回到大厅等候叫号。",
                     "ahead")]
    # The bridge prints what the kiosk answered: the issued event carries it (staff stream).
    issued = [e for e in _ok(hall.client.get(f"{API}/events?since=0", headers=hall.headers("staff")))["events"]
              if e["type"] == "ticket.issued" and e["data"]["id"] == mine["id"]]
    assert issued[0]["data"]["ahead"] == 4 and issued[0]["data"]["estimate"] == mine["estimate"]
    public = [e for e in _ok(hall.client.get(f"{API}/events?since=0"))["events"] if e["type"] == "ticket.issued"]
    assert all("estimate" not in e["data"] and "ahead" not in e["data"] for e in public)
    got = _ok(hall.client.get(f"{API}/tickets/{mine['id']}", headers=hall.headers("staff")))
    assert got["ahead"] == 4 and got["estimate"] == mine["estimate"]


def test_the_estimate_counts_only_open_windows_and_says_when_none_is(hall) -> None:
    t = hall.issue("A")
    assert t["estimate"]["state"] == "no_window"  # nobody signed in anywhere
    _ok(hall.post(f"{API}/windows/1/sign-in"))
    idle = _progress(hall, t)["estimate"]
    assert idle == {"ahead": 0, "p50_minutes": 0.0, "p90_minutes": 0.0, "state": "ok", "source": "analytic"}  # an idle window
    _ok(hall.post(f"{API}/windows/1/pause", json={"reason": "午休"}))
    assert _progress(hall, t)["estimate"]["state"] == "no_window"  # paused is not open
    _ok(hall.post(f"{API}/windows/1/resume"))
    # Sent to window 2 by name, which nobody staffs: no window can call it, whatever window 1 does.
    _ok(hall.post(f"{API}/tickets/{t['id']}/transfer", json={"window": 2}))
    assert _progress(hall, t)["estimate"] == {"ahead": 0, "p50_minutes": None, "p90_minutes": None,
                                              "state": "no_window", "source": "analytic"}
    _ok(hall.post(f"{API}/windows/2/sign-in", "admin"))
    assert _progress(hall, t)["estimate"]["state"] == "ok"
    body = json.dumps(_progress(hall, t))
    assert "Infinity" not in body and "NaN" not in body


def test_the_estimate_uses_recent_service_times(hall) -> None:
    _ok(hall.post(f"{API}/windows/1/sign-in"))
    for _ in range(5):  # five services of exactly 2 minutes (the layout says 10 for A)
        hall.issue("A")
        _ok(hall.post(f"{API}/windows/1/call"))
        _ok(hall.post(f"{API}/windows/1/start"))
        hall.clock.advance(120)
        _ok(hall.post(f"{API}/windows/1/finish"))
    hall.issue("A")
    _ok(hall.post(f"{API}/windows/1/call"))  # window 1 busy from now on
    for _ in range(3):
        hall.issue("A")
    t = hall.issue("A")
    mean, cv = service_stats([2.0] * 5, 10.0)
    expected = estimate_wait(3, 1.0, mean, cv=cv)
    assert (t["estimate"]["p50_minutes"], t["estimate"]["p90_minutes"]) == (expected.p50_minutes, expected.p90_minutes)
    assert t["estimate"]["p50_minutes"] < estimate_wait(3, 1.0, 10.0).p50_minutes
    # Three hours on, those services are too old to say anything: the layout's figure again.
    hall.clock.advance(3 * 3600 + 60)
    old = _progress(hall, t)["estimate"]
    assert old["p50_minutes"] == estimate_wait(3, 1.0, 10.0).p50_minutes


def _issue_appointment(hall: Any, category: str, slot: float) -> dict[str, Any]:
    info = HallRegistry(hall.db).get("tiny")
    req = parse_issue({"category": category, "channel": "appointment"})
    result = run_write(hall.db, info, None, lambda tx: issue_ticket(tx, req, _crypto(hall), CheckedIn(category, slot)),
                       now=hall.clock.now())
    assert result.status == 201, result.body
    return result.body


def _export_waits(hall: Any) -> tuple[list[float], list[float], dict[int, list[Any]]]:
    out = io.StringIO()
    export_events(hall.db, "tiny", out)
    trails: dict[int, list[Any]] = {}
    for line in out.getvalue().splitlines():
        env = json.loads(line)
        if env["type"].startswith("ticket."):
            at = datetime.fromisoformat(env["at"]).timestamp()
            trails.setdefault(env["data"]["id"], []).append((env["type"], at, env["data"]))
    waits, abandoned = [], []
    for events in trails.values():
        w = metrics.wait_seconds(events)
        if w is not None:
            waits.append(w)
        elif (a := metrics.abandoned_wait_seconds(events)) is not None:
            abandoned.append(a)
    return waits, abandoned, trails


def test_manager_view_figures_are_the_metrics_of_the_exported_day(hall) -> None:
    def at(seconds: float) -> None:
        hall.clock.set(start + seconds)

    def act(path: str, who: str = "staff", **body: Any) -> dict[str, Any]:
        return _ok(hall.post(f"{API}/{path}", who, body))

    start = hall.clock.now()
    act("windows/1/sign-in")
    act("windows/2/sign-in", "admin")
    a1, a2, b1 = hall.issue("A"), hall.issue("A"), hall.issue("B")
    at(60)
    act("windows/1/call", ticket=a1["id"]), act("windows/1/start")  # waited 60 s
    at(300)
    f1 = hall.issue("F")
    at(600)
    act("windows/2/call", "admin", ticket=a2["id"]), act("windows/2/start", "admin")  # waited 600 s
    at(700)
    act("windows/1/finish")
    at(1200)
    act(f"tickets/{a2['id']}/transfer", category="B")  # waits again from here
    at(1300)
    a3 = hall.issue("A")
    at(1400)
    act(f"tickets/{b1['id']}/cancel", reason="left")  # gave up after 1400 s: a miss
    at(1500)
    live = _ok(hall.client.get(f"{API}/live-summary", headers=hall.headers("admin")))
    # a2 has waited 600 + 300 s (its service not counted), f1 1200 s, a3 200 s.
    assert live["longest_by_category"] == pytest.approx({"A": 200.0, "B": 900.0, "F": 1200.0})
    assert live["longest_wait"]["number"] == f1["number"]
    _, _, trails = _export_waits(hall)
    assert live["longest_by_category"]["B"] == metrics.wait_seconds(trails[a2["id"]], hall.clock.now())
    act("windows/1/call", ticket=a2["id"]), act("windows/1/start")  # 900 s in all
    at(1600)
    act("windows/2/call", "admin", ticket=f1["id"]), act("windows/2/start", "admin")  # 1300 s: a miss
    at(1700)
    act("windows/1/finish")
    act("windows/1/call", ticket=a3["id"])  # 400 s, then not there
    at(1800)
    act("windows/1/no-show")
    at(1900)
    act(f"tickets/{a3['id']}/recheck-in")  # its wait starts over
    at(1950)
    ap = _issue_appointment(hall, "A", slot=start + 2100)  # checked in early: waits from its slot
    at(2000)
    act("windows/1/call", ticket=a3["id"])  # 100 s since the re-check-in
    at(2150)
    act("windows/2/finish", "admin")
    at(2200)
    act("windows/2/call", "admin", ticket=ap["id"])  # 100 s after the slot began
    live = _ok(hall.client.get(f"{API}/live-summary", headers=hall.headers("admin")))
    waits, abandoned, _ = _export_waits(hall)
    assert sorted(waits) == [60.0, 100.0, 100.0, 900.0, 1300.0] and abandoned == [1400.0]
    expected = metrics.service_level(waits, 15 * 60, abandoned)
    assert expected == pytest.approx(4 / 6)
    assert live["service_level"] == {"within_minutes": 15.0, "share": expected, "count": 5, "abandoned": 1}
