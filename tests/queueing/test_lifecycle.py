from __future__ import annotations

import pytest

from queueing import lifecycle as lc
from queueing.layout import Rules
from queueing.tickets import IllegalMove, PriorityClass, QueueClass, SuspendKind
from queueing.tickets import TicketEventType as E
from queueing.tickets import TicketStatus as S
from tests.queueing.conftest import T0

RULES = Rules(recalls_before_no_show=2, recheckin_places_back=3)


def waiting(id=1, at=T0, **kw):
    return lc.issue(id, f"A{id:03d}", "A", at, **kw).ticket


def serving(at=T0):
    t = lc.call(waiting(at=at), 8, at + 60).ticket
    return lc.start(t, at + 90).ticket


def test_full_life_records_each_step():
    t = waiting()
    assert t.status is S.WAITING and t.queue_key == T0
    called = lc.call(t, 8, T0 + 60)
    assert called.ticket.status is S.CALLED and called.ticket.window == 8
    assert called.events == ((E.CALLED, {"window": 8}),)
    started = lc.start(called.ticket, T0 + 90).ticket
    done = lc.finish(started, T0 + 600)
    assert done.ticket.status is S.FINISHED and done.ticket.finished_at == T0 + 600


@pytest.mark.parametrize(
    "move",
    [
        lambda t: lc.finish(t, T0),
        lambda t: lc.start(t, T0),
        lambda t: lc.recall(t, T0, RULES),
        lambda t: lc.no_show(t, T0),
        lambda t: lc.suspend(t, T0, "holding"),
        lambda t: lc.resume(t, T0, window_open=True, head_key=None),
        lambda t: lc.recheck_in(t, T0, RULES, []),
    ],
)
def test_illegal_moves_raise_and_change_nothing(move):
    t = waiting()
    with pytest.raises(IllegalMove) as e:
        move(t)
    assert e.value.code == "illegal_move"
    assert t.status is S.WAITING  # frozen: the original is untouched


def test_a_window_cannot_call_a_ticket_named_for_another_window():
    t = lc.transfer(waiting(), T0 + 5, to_window=12).ticket
    with pytest.raises(IllegalMove, match="window 12"):
        lc.call(t, 8, T0 + 10)
    assert lc.call(t, 12, T0 + 10).ticket.window == 12


def test_recalls_past_the_limit_make_a_no_show():
    t = lc.call(waiting(), 8, T0).ticket
    t = lc.recall(t, T0 + 30, RULES).ticket
    t = lc.recall(t, T0 + 60, RULES).ticket
    assert t.status is S.CALLED and t.recalls == 2
    last = lc.recall(t, T0 + 90, RULES)
    assert last.ticket.status is S.NO_SHOW
    assert last.events[0][0] is E.NO_SHOW and last.events[0][1]["automatic"] is True


def test_recheck_in_goes_back_the_configured_places_not_to_the_end():
    t = lc.no_show(lc.call(waiting(id=9, at=T0), 8, T0 + 10).ticket, T0 + 20).ticket
    keys = [T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5]
    back = lc.recheck_in(t, T0 + 900, RULES, keys).ticket
    assert back.status is S.WAITING
    assert keys[2] < back.queue_key < keys[3]  # three tickets stay ahead of it
    assert back.wait_started_at == T0 + 900
    short = lc.recheck_in(t, T0 + 900, RULES, [T0 + 1]).ticket
    assert short.queue_key > T0 + 1 and short.queue_key < T0 + 900
    alone = lc.recheck_in(t, T0 + 900, RULES, []).ticket
    assert alone.queue_key == T0 + 900


def test_transfer_keeps_the_place_in_time():
    t = serving(at=T0)
    moved = lc.transfer(t, T0 + 1200, to_category="B").ticket
    assert moved.status is S.WAITING and moved.category == "B"
    assert moved.queue_key == T0 and moved.transfers == 1
    assert moved.wait_started_at == T0 + 1200
    with pytest.raises(IllegalMove):
        lc.transfer(t, T0, to_category="B", to_window=3)


def test_suspend_and_resume_to_the_head_of_the_suspending_window():
    t = lc.suspend(serving(), T0 + 300, SuspendKind.MISSING_PAPERS).ticket
    assert t.status is S.SUSPENDED and t.suspended_by == 8
    back = lc.resume(t, T0 + 2000, window_open=True, head_key=T0 - 500).ticket
    assert back.status is S.WAITING and back.target_window == 8 and back.queue_key < T0 - 500
    closed = lc.resume(t, T0 + 2000, window_open=False, head_key=None).ticket
    assert closed.target_window is None and closed.queue_key == T0


def test_cancel_and_close_of_the_day():
    assert lc.cancel(waiting(), T0).ticket.status is S.CANCELLED
    c = lc.close(serving(), T0 + 36000, "end of day")
    assert c.ticket.status is S.CLOSED and c.events[0][1] == {"reason": "end of day", "was": "serving"}
    with pytest.raises(IllegalMove):
        lc.close(c.ticket, T0, "again")


def test_several_matters_each_start_and_finish():
    t = lc.issue(1, "A001", "A", T0, matters=["M1", "M2"]).ticket
    t = lc.start(lc.call(t, 3, T0 + 1).ticket, T0 + 2).ticket
    t = lc.start_matter(t, "M1", T0 + 3).ticket
    t = lc.finish_matter(t, "M1", T0 + 100).ticket
    t = lc.start_matter(t, "M2", T0 + 101).ticket
    with pytest.raises(IllegalMove):
        lc.start_matter(t, "M2", T0 + 102)
    with pytest.raises(IllegalMove):
        lc.start_matter(t, "M9", T0 + 102)
    t = lc.finish(t, T0 + 200).ticket
    assert [(m.code, m.started_at, m.finished_at) for m in t.matters] == [
        ("M1", T0 + 3, T0 + 100),
        ("M2", T0 + 101, T0 + 200),
    ]


def test_appointment_place_is_the_slot_and_its_wait_starts_at_the_later_of_checkin_and_slot():
    early = lc.issue(1, "YA001", "A", T0, appointment_start=T0 + 600).ticket
    assert early.queue_key == T0 + 600 and early.wait_started_at == T0 + 600
    assert early.queue_class is QueueClass.APPOINTMENT
    late = lc.issue(2, "YA002", "A", T0 + 900, appointment_start=T0 + 600).ticket
    assert late.wait_started_at == T0 + 900
    assert lc.issue(3, "VA001", "A", T0, priority=PriorityClass.ELDERLY).ticket.queue_class is QueueClass.PRIORITY
