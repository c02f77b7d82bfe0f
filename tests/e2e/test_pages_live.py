"""The pages' live client (displays/static/js/live.js) in Chromium with a scripted websocket:
resume by seq, duplicates ignored, a gap reloads the snapshot, reconnect with back-off, resync,
and the event reducer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from hall.http.pages import STATIC

pytestmark = [pytest.mark.browser]

FAKES = """
window.sockets = [];
class FakeSocket {
  constructor(url) {
    this.url = url; this.readyState = 0; this.sent = [];
    sockets.push(this);
    setTimeout(() => { this.readyState = 1; this.onopen && this.onopen(); }, 0);
  }
  send(m) { this.sent.push(m); }
  close() { this.readyState = 3; this.onclose && this.onclose(); }
  deliver(msg) { this.onmessage && this.onmessage({data: JSON.stringify(msg)}); }
}
FakeSocket.OPEN = 1;
window.WebSocket = FakeSocket;
window.fetches = [];
window.nextSnapshot = null;
window.fetch = (url) => {
  fetches.push(String(url));
  return Promise.resolve(new Response(JSON.stringify(window.nextSnapshot), {status: 200}));
};
"""

SNAPSHOT = {
    "seq": 5, "hall": {"code": "h", "name": "测试厅"}, "waiting": {"A": 2}, "waiting_by_zone": {"z": 2},
    "categories": [{"code": "A", "name": "综合", "zone": "z"}],
    "windows": [{"number": 1, "name": "一", "state": "idle", "current": None, "staff_name": "王"}],
    "latest_calls": [],
}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_content("<!doctype html><html><body></body></html>")
    pg.add_script_tag(content=FAKES)
    for script in ("live.js", "reducer.js"):
        pg.add_script_tag(content=(STATIC / "js" / script).read_text(encoding="utf-8"))
    pg.evaluate("""() => {
      window.snaps = []; window.evs = []; window.online = [];
      window.ctl = Hall.live({hall: 'h', token: 'tk', refreshMs: 0,
        onSnapshot: s => snaps.push(s.seq), onEvent: e => evs.push(e.seq), onStatus: o => online.push(o)});
    }""")
    yield pg
    context.close()


def deliver(page: Page, msg: dict[str, Any], socket: int = -1) -> None:
    page.evaluate("([m, i]) => sockets.at(i).deliver(m)", [msg, socket])


def called(seq: int, number: str, ticket: int) -> dict[str, Any]:
    return {"seq": seq, "type": "ticket.called", "at": "2026-11-21T09:00:00+08:00", "hall": "h",
            "data": {"id": ticket, "number": number, "category": "A", "zone": "z", "window": 1,
                     "window_name": "一", "recalls": 0}}


def test_resume_by_seq_and_reload_on_gap(page: Page) -> None:
    page.wait_for_function("online.length === 1 && online[0] === true")
    first = page.evaluate("sockets[0].url")
    assert first.endswith("/ws/halls/h?auth=message")  # no since: the server starts with a snapshot
    assert page.evaluate("sockets[0].sent[0]") == '{"type":"auth","token":"tk"}'  # the token: not in the URL
    deliver(page, {"type": "snapshot", "seq": 5, "data": SNAPSHOT})
    deliver(page, called(6, "A001", 9))
    deliver(page, called(6, "A001", 9))  # a duplicate (replay overlap) changes nothing
    state = page.evaluate("ctl.state()")
    assert page.evaluate("[snaps, evs]") == [[5], [6]]
    assert state["waiting"]["A"] == 1 and state["waiting_by_zone"]["z"] == 1
    assert state["windows"][0]["state"] == "called"
    assert state["windows"][0]["current"]["number"] == "A001"
    assert [c["number"] for c in state["latest_calls"]] == ["A001"]

    # seq 7 and 8 never arrived: the client reloads the snapshot instead of showing stale state.
    page.evaluate("(s) => { window.nextSnapshot = s; }", {**SNAPSHOT, "seq": 8, "waiting": {"A": 7}})
    deliver(page, called(9, "A002", 10))
    page.wait_for_function("evs.length === 2")
    assert page.evaluate("fetches") == ["/api/halls/h/snapshot"]
    assert page.evaluate("[snaps, evs]") == [[5, 8], [6, 9]]
    state = page.evaluate("ctl.state()")
    assert state["waiting"]["A"] == 6  # the reloaded count, then seq 9's call applied on top
    assert state["latest_calls"][0]["number"] == "A002"

    # The connection drops: a new one resumes from the last seq seen, after a short back-off.
    page.evaluate("sockets[0].close()")
    assert page.evaluate("document.getElementById('hall-offline').classList.contains('hidden')") is False
    page.wait_for_function("sockets.length === 2", timeout=3000)
    assert page.evaluate("sockets[1].url").endswith("/ws/halls/h?since=9&auth=message")
    page.wait_for_function("online.at(-1) === true")
    assert page.evaluate("document.getElementById('hall-offline').classList.contains('hidden')") is True

    # hall.resync: fetch a fresh snapshot.
    page.evaluate("(s) => { window.nextSnapshot = s; }", {**SNAPSHOT, "seq": 12})
    deliver(page, {"type": "hall.resync"})
    page.wait_for_function("snaps.length === 3")
    assert page.evaluate("snaps") == [5, 8, 12]
    # An older snapshot than what is shown is never applied.
    page.evaluate("(s) => { window.nextSnapshot = s; }", {**SNAPSHOT, "seq": 3})
    page.evaluate("ctl.reload()")
    page.wait_for_function("fetches.length === 3")
    page.wait_for_timeout(50)
    assert page.evaluate("ctl.seq()") == 12


def test_back_off_grows_between_failed_attempts(page: Page) -> None:
    page.wait_for_function("sockets.length === 1")
    page.evaluate("""() => {
      window.opened = [];
      const Base = window.WebSocket;
      // From now on every connection fails at once, as when the server is down.
      window.WebSocket = class extends Base {
        constructor(url) { super(url); opened.push(performance.now()); setTimeout(() => this.close(), 0); }
      };
      window.WebSocket.OPEN = 1;
      sockets[0].close();
    }""")
    page.wait_for_function("opened.length >= 4", timeout=15000)
    times = page.evaluate("opened")
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # 1 s, 2 s, 4 s (±25% jitter): each gap at least 1.2× the one before, up to timer noise
    assert gaps[1] > gaps[0] * 1.1 and gaps[2] > gaps[1] * 1.1
    assert gaps[0] < 1500


def test_reducer_keeps_windows_and_counts(page: Page) -> None:
    state = page.evaluate(
        """(snap) => {
          const s = JSON.parse(JSON.stringify(snap));
          const ev = (seq, type, data) => Hall.applyEvent(s, {seq, type, at: '2026-11-21T09:00:00+08:00', data});
          ev(6, 'ticket.issued', {id: 11, number: 'A003', category: 'A', zone: 'z', waiting: 3});
          ev(7, 'ticket.called', {id: 11, number: 'A003', category: 'A', zone: 'z', window: 1});
          ev(8, 'ticket.started', {id: 11, number: 'A003', category: 'A', window: 1});
          const serving = s.windows[0].state;
          ev(9, 'ticket.finished', {id: 11, number: 'A003', category: 'A', window: 1});
          ev(10, 'window.paused', {window: 1, reason: '午休'});
          return {s, serving};
        }""",
        SNAPSHOT,
    )
    s = state["s"]
    assert state["serving"] == "serving"
    assert s["waiting"]["A"] == 2  # set to 3 by the issue, minus the call
    assert s["windows"][0]["state"] == "paused" and s["windows"][0]["pause_reason"] == "午休"
    assert s["windows"][0]["current"] is None
    assert s["windows"][0]["last_finished"] == {"id": 11, "number": "A003"}
    assert s["seq"] == 10
