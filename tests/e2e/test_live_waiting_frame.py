"""The public stream's coalesced `hall.waiting` frame in the pages' live client (live.js and
reducer.js in Chromium): it stands for the issues `from` … `seq`, so it is no gap, and it sets
each category's count (and its zone by the same amount); a frame whose `from` is past the next
seq is a gap like any other, and the snapshot is reloaded."""

from __future__ import annotations

from playwright.sync_api import Page

from .test_pages_live import SNAPSHOT, deliver, page  # noqa: F401 - the fixture

WAITING = {"type": "hall.waiting", "at": "2026-11-21T09:00:00+08:00", "hall": "h"}


def test_a_waiting_frame_covers_its_issues_and_sets_the_counts(page: Page) -> None:  # noqa: F811
    page.wait_for_function("online.length === 1 && online[0] === true")
    deliver(page, {"type": "snapshot", "seq": 5, "data": SNAPSHOT})
    deliver(page, {**WAITING, "seq": 9, "from": 6, "data": {"waiting": {"A": 6}}})
    state = page.evaluate("ctl.state()")
    assert page.evaluate("[snaps, evs, fetches]") == [[5], [9], []]  # applied: no gap, no reload
    assert state["waiting"]["A"] == 6 and state["waiting_by_zone"]["z"] == 6 and state["seq"] == 9

    # Issues 10 and 11 never arrived: a frame from 12 on is a gap, and the snapshot is reloaded.
    page.evaluate("(s) => { window.nextSnapshot = s; }", {**SNAPSHOT, "seq": 11, "waiting": {"A": 8}, "waiting_by_zone": {"z": 8}})
    deliver(page, {**WAITING, "seq": 13, "from": 12, "data": {"waiting": {"A": 10}}})
    page.wait_for_function("evs.length === 2")
    assert page.evaluate("[snaps, evs, fetches]") == [[5, 11], [9, 13], ["/api/halls/h/snapshot"]]
    state = page.evaluate("ctl.state()")
    assert state["waiting"]["A"] == 10 and state["waiting_by_zone"]["z"] == 10
