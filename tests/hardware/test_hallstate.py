"""The bridge's picture of the hall: snapshot, events, sequence gaps."""

from __future__ import annotations

from hardware.hallstate import HallState

SNAP = {
    "hall": {"code": "h1", "name": "大厅"},
    "categories": [{"code": "A", "name": "综合业务", "zone": "z"}],
    "windows": [
        {"number": 8, "state": "called", "current": {"id": 5, "number": "A005"}, "last_finished": {"id": 4, "number": "A004"}},
        {"number": 9, "state": "paused", "staff_name": "王五", "current": None, "last_finished": None},
    ],
}


def ev(seq: int, kind: str, **data: object) -> dict[str, object]:
    return {"seq": seq, "type": kind, "data": data}


def test_snapshot_then_events() -> None:
    st = HallState()
    st.load_snapshot(10, SNAP)
    assert st.windows["8"].current_number == "A005" and st.windows["8"].last_finished_id == 4
    assert st.windows["9"].state == "paused"
    assert st.apply(ev(11, "ticket.started", id=5, number="A005", window=8)) == (None, False)
    assert st.apply(ev(12, "ticket.finished", id=5, number="A005", window=8)) == ("8", False)
    assert st.windows["8"].last_finished_id == 5 and st.windows["8"].current_number is None
    assert st.apply(ev(13, "ticket.called", id=6, number="A006", window=8)) == ("8", False)
    assert st.apply(ev(14, "window.resumed", window=9)) == ("9", False)
    assert st.windows["9"].state == "idle"


def test_duplicates_ignored_and_gaps_reported() -> None:
    st = HallState()
    st.load_snapshot(10, SNAP)
    assert st.apply(ev(10, "ticket.called", id=7, number="A007", window=8)) == (None, False)
    assert st.windows["8"].current_number == "A005"
    window, gap = st.apply(ev(13, "ticket.called", id=7, number="A007", window=8))
    assert (window, gap) == ("8", True)


def test_event_for_another_ticket_does_not_clear_current() -> None:
    st = HallState()
    st.load_snapshot(1, SNAP)
    assert st.apply(ev(2, "ticket.no_show", id=99, number="A099", window=8)) == (None, False)
    assert st.windows["8"].current_number == "A005"


def test_odd_events_do_not_raise() -> None:
    st = HallState()
    st.load_snapshot(1, {"windows": [{"number": 8}]})
    assert st.apply({"seq": 2, "type": "ticket.called", "data": {"window": 8}}) == ("8", False)
    assert st.apply({"seq": 3, "type": "window.paused", "data": {}}) == (None, False)
    assert st.apply({"type": "something.new"}) == (None, False)
