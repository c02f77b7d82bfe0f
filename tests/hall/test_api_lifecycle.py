"""Full ticket lives through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from hall.store.models import AuditEntry, TicketRow

API = "/api/halls/tiny"


def events(hall, since=0, who="staff"):
    r = hall.client.get(f"{API}/events?since={since}", headers=hall.headers(who))
    assert r.status_code == 200, r.text
    return r.json()["events"]


def test_issue_call_start_finish_rate(hall):
    t = hall.issue("A", id_number="110101199003071234", phone="13812345678")
    assert t["number"] == "A001" and t["status"] == "waiting" and t["ahead"] == 0
    # Nobody is signed in at any window yet: no estimate, and the answer says why.
    assert t["estimate"] == {"ahead": 0, "p50_minutes": None, "p90_minutes": None, "state": "no_window",
                             "source": "analytic"}
    assert t["eta"] == {"p50_minutes": None, "p90_minutes": None}
    assert len(t["progress_token"]) >= 24 and t["progress_url"].endswith(t["progress_token"])

    hall.clock.advance(120)
    call = hall.post(f"{API}/windows/1/call").json()
    assert call["ticket"]["number"] == "A001" and call["ticket"]["window"] == 1
    assert call["reason"]["rule"] in ("queue_key", "aging")
    assert hall.post(f"{API}/windows/1/start").json()["ticket"]["status"] == "serving"
    hall.clock.advance(600)
    assert hall.post(f"{API}/windows/1/finish").json()["ticket"]["status"] == "finished"
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "pad", {"level": 5, "channel": "pad"})
    assert r.status_code == 201, r.text

    evs = events(hall)
    assert [e["type"] for e in evs] == [
        "ticket.issued", "ticket.called", "ticket.started", "ticket.finished", "ticket.rated",
    ]
    assert [e["seq"] for e in evs] == [1, 2, 3, 4, 5]
    assert evs[1]["data"]["window_name"] == "综合窗口1" and evs[1]["at"].endswith("+08:00")
    assert "reason" in evs[1]["data"]  # staff audience

    got = hall.client.get(f"{API}/tickets/{t['id']}", headers=hall.headers("staff")).json()
    assert got["status"] == "finished" and got["has_id_number"] is True

    with hall.db.read() as conn:
        row = conn.execute(select(TicketRow).where(TicketRow.id == t["id"])).first()
        audit = conn.execute(select(AuditEntry.action).where(AuditEntry.actor == "user:张三")).scalars().all()
    # encrypted at rest, with a keyed hash beside it
    assert "110101199003071234" not in (row.person_enc or "") and row.person_hash and len(row.person_hash) == 64
    assert "13812345678" not in (row.phone_enc or "")
    assert {"window.call", "window.start", "window.finish"} <= set(audit)


def test_numbers_per_prefix_and_priority_first(hall):
    a1 = hall.issue("A")
    b1 = hall.issue("B")
    v1 = hall.issue("A", priority="elderly")
    a2 = hall.issue("A")
    assert [a1["number"], b1["number"], v1["number"], a2["number"]] == ["A001", "B001", "VA001", "A002"]
    hall.clock.advance(60)
    first = hall.post(f"{API}/windows/1/call").json()
    assert first["ticket"]["number"] == "VA001" and first["reason"]["rule"] == "priority"


def test_call_rules_busy_finish_first_and_empty(hall):
    assert hall.post(f"{API}/windows/1/call").json() == {"ticket": None, "reason": None}
    t1, t2 = hall.issue("A"), hall.issue("A")
    hall.post(f"{API}/windows/1/call")
    busy = hall.post(f"{API}/windows/1/call")
    assert busy.status_code == 409 and busy.json()["error"] == "window_busy"
    hall.post(f"{API}/windows/1/start")
    nxt = hall.post(f"{API}/windows/1/call").json()
    assert nxt["ticket"]["id"] == t2["id"]
    evs = events(hall)
    finished = [e for e in evs if e["type"] == "ticket.finished"]
    assert finished and finished[0]["data"]["id"] == t1["id"] and finished[0]["data"]["finished_by_call"] is True


def test_staff_pick_out_of_order(hall):
    hall.issue("A")
    t2 = hall.issue("A")
    r = hall.post(f"{API}/windows/2/call", json={"ticket": t2["id"]}).json()
    assert r["ticket"]["id"] == t2["id"] and r["reason"]["rule"] == "staff_pick"
    again = hall.post(f"{API}/windows/1/call", json={"ticket": t2["id"]})
    assert again.status_code == 409


def test_dedicated_window_only_serves_its_category(hall):
    hall.issue("A")
    f = hall.issue("F")
    r = hall.post(f"{API}/windows/3/call").json()
    assert r["ticket"]["id"] == f["id"]
    assert hall.post(f"{API}/windows/3/no-show").status_code == 200
    assert hall.post(f"{API}/windows/3/call").json()["ticket"] is None


def test_recall_then_automatic_no_show_and_recheck_in(hall):
    t = hall.issue("A")
    for _ in range(4):
        hall.clock.advance(30)
        hall.issue("A")
    hall.post(f"{API}/windows/1/call")
    assert hall.post(f"{API}/windows/1/recall").json()["ticket"]["recalls"] == 1
    assert hall.post(f"{API}/windows/1/recall").json()["ticket"]["recalls"] == 2
    third = hall.post(f"{API}/windows/1/recall").json()
    assert third["ticket"]["status"] == "no_show"  # recalls_before_no_show = 2
    r = hall.post(f"{API}/tickets/{t['id']}/recheck-in")
    assert r.status_code == 200 and r.json()["status"] == "waiting"
    # it goes 3 places back, not to the end: the 4th call gets it
    got = []
    for w in (1, 2, 1, 2):
        c = hall.post(f"{API}/windows/{w}/call").json()
        got.append(c["ticket"]["id"])
        hall.post(f"{API}/windows/{w}/start")
    assert got[3] == t["id"]


def test_transfer_suspend_resume_cancel(hall):
    hall.post(f"{API}/windows/1/sign-in")  # staffed: idle once its ticket has gone
    t = hall.issue("A")
    hall.post(f"{API}/windows/1/call")
    hall.post(f"{API}/windows/1/start")
    r = hall.post(f"{API}/tickets/{t['id']}/transfer", json={"window": 3})
    assert r.status_code == 200 and r.json()["status"] == "waiting"
    snap = hall.client.get(f"{API}/snapshot").json()
    assert next(w for w in snap["windows"] if w["number"] == 1)["state"] == "idle"
    # only window 3 may call a ticket transferred to it by name
    assert hall.post(f"{API}/windows/2/call").json()["ticket"] is None
    c = hall.post(f"{API}/windows/3/call").json()
    assert c["ticket"]["id"] == t["id"] and c["reason"]["rule"] == "named_window"
    assert hall.post(f"{API}/tickets/{t['id']}/suspend", json={"kind": "missing_papers"}).json()["status"] == "suspended"
    assert hall.post(f"{API}/tickets/{t['id']}/resume").json()["status"] == "waiting"
    assert hall.post(f"{API}/tickets/{t['id']}/cancel", json={"reason": "本人放弃"}).json()["status"] == "cancelled"
    types = [e["type"] for e in events(hall)]
    assert types[-4:] == ["ticket.called", "ticket.suspended", "ticket.resumed", "ticket.cancelled"]


def test_transfer_to_category_keeps_its_place(hall):
    a = hall.issue("A")
    hall.clock.advance(60)
    f_later = hall.issue("F")
    r = hall.post(f"{API}/tickets/{a['id']}/transfer", json={"category": "F"})
    assert r.json()["category"] == "F"
    first = hall.post(f"{API}/windows/3/call").json()
    assert first["ticket"]["id"] == a["id"]  # earlier in time than the F ticket issued after it
    assert f_later["id"] != a["id"]


def test_pause_needs_reason_and_blocks_calls(hall):
    hall.issue("A")
    assert hall.post(f"{API}/windows/1/pause", json={}).status_code == 422
    assert hall.post(f"{API}/windows/1/pause", json={"reason": "午休"}).status_code == 200
    r = hall.post(f"{API}/windows/1/call")
    assert r.status_code == 409 and r.json()["error"] == "window_paused"
    snap = hall.client.get(f"{API}/snapshot").json()
    w1 = next(w for w in snap["windows"] if w["number"] == 1)
    assert w1["state"] == "paused" and w1["pause_reason"] == "午休"
    assert hall.post(f"{API}/windows/1/resume").status_code == 200
    assert hall.post(f"{API}/windows/1/call").json()["ticket"] is not None


def test_sign_in_moves_the_clerk(hall):
    assert hall.post(f"{API}/windows/1/sign-in").json()["staff_name"] == "张三"
    hall.post(f"{API}/windows/2/sign-in")
    snap = hall.client.get(f"{API}/snapshot").json()
    names = {w["number"]: w["staff_name"] for w in snap["windows"]}
    assert names[1] is None and names[2] == "张三"
    assert hall.post(f"{API}/windows/2/sign-out").status_code == 200
    assert hall.post(f"{API}/windows/2/sign-out").status_code == 409


def test_snapshot_contents(hall):
    hall.issue("A")
    hall.issue("F")
    hall.issue("F")
    hall.post(f"{API}/windows/3/call")
    snap = hall.client.get(f"{API}/snapshot").json()
    assert snap["waiting"] == {"A": 1, "B": 0, "F": 1}
    assert snap["waiting_by_zone"] == {"service": 1, "police": 1}
    w3 = next(w for w in snap["windows"] if w["number"] == 3)
    assert w3["state"] == "called" and w3["current"]["number"] == "F001"
    assert snap["latest_calls"][0]["number"] == "F001" and snap["latest_calls"][0]["window"] == 3
    assert snap["seq"] == 4


def test_day_rollover_restarts_numbers_and_close_day(hall):
    from hall.core.daily import close_day
    from hall.core.registry import HallRegistry

    hall.issue("A")
    left = hall.issue("A")
    hall.clock.advance(16 * 3600)  # 01:00 the next day
    assert hall.issue("A")["number"] == "A001"
    reg = HallRegistry(hall.db)
    n, envs = close_day(hall.db, reg.get("tiny"), now=hall.clock.now())
    assert n == 2 and {e["type"] for e in envs} == {"ticket.closed"}
    got = hall.client.get(f"{API}/tickets/{left['id']}", headers=hall.headers("staff")).json()
    assert got["status"] == "closed" and got["close_reason"] == "day_closed"
    snap = hall.client.get(f"{API}/snapshot").json()
    assert snap["waiting"]["A"] == 1
