from __future__ import annotations


def test_issue_call_finish(hall):
    t = hall.issue("A")
    assert t["number"] == "A001"
    r = hall.post("/api/halls/tiny/windows/1/call")
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["id"] == t["id"]
    assert hall.post("/api/halls/tiny/windows/1/start").status_code == 200
    assert hall.post("/api/halls/tiny/windows/1/finish").status_code == 200
    snap = hall.client.get("/api/halls/tiny/snapshot").json()
    assert snap["seq"] == 4
