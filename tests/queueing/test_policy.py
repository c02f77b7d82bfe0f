from __future__ import annotations

from types import MappingProxyType

from queueing.layout import Rules
from queueing.policy import Head, WindowState, WindowView, choose, heads_wanted
from queueing.tickets import QueueClass as Q
from tests.queueing.conftest import T0

RULES = Rules(priority_ratio=2, max_wait_minutes=60, appointment_tolerance_minutes=15)
W8 = WindowView(8, MappingProxyType({"A": 1.0, "B": 1.0}))
NOW = T0 + 3600 * 3


def head(id, cat="A", klass=Q.NORMAL, waited_min=10.0, **kw):
    return Head(id, cat, klass, NOW - waited_min * 60, number=f"{cat}{id:03d}", **kw)


FRESH = WindowState()


def pick(heads, window=W8, state=FRESH, now=NOW, rules=RULES):
    c = choose(window, heads, state, now, rules)
    return c


def test_paused_window_gets_nothing_and_unserved_categories_are_ignored():
    assert pick([head(1)], window=WindowView(8, {"A": 1.0}, paused=True)) is None
    assert pick([head(1, cat="C")]) is None
    assert pick([]) is None


def test_earliest_queue_key_wins_with_equal_weights_and_ties_break_by_id():
    c = pick([head(2, waited_min=5), head(1, cat="B", waited_min=9)])
    assert c.head.ticket_id == 1 and c.reason.rule == "queue_key"
    tie = pick([head(5, waited_min=7), head(4, cat="B", waited_min=7)])
    assert tie.head.ticket_id == 4


def test_weights_make_a_window_prefer_a_category_until_age_catches_up():
    w = WindowView(9, MappingProxyType({"A": 1.0, "B": 2.0}))
    # B waited 6 min (claim 12), A waited 10 min (claim 10): B goes first although younger.
    c = pick([head(1, "A", waited_min=10), head(2, "B", waited_min=6)], window=w)
    assert c.head.ticket_id == 2 and c.reason.rule == "aging"
    # A waited 13 min (claim 13) now beats B.
    c = pick([head(1, "A", waited_min=13), head(2, "B", waited_min=6)], window=w)
    assert c.head.ticket_id == 1 and c.reason.rule == "queue_key"


def test_priority_goes_first_but_the_ratio_lets_a_normal_ticket_through():
    heads = [head(1, waited_min=30), head(2, klass=Q.PRIORITY, waited_min=1)]
    s = WindowState()
    first = pick(heads, state=s)
    assert first.head.ticket_id == 2 and first.reason.rule == "priority" and first.state.priority_streak == 1
    second = pick(heads, state=first.state)
    assert second.head.ticket_id == 2 and second.state.priority_streak == 2
    third = pick(heads, state=second.state)
    assert third.head.ticket_id == 1 and third.reason.rule == "priority_ratio"
    assert third.state.priority_streak == 0
    # With no normal ticket waiting, priority keeps going.
    assert pick([heads[1]], state=second.state).head.ticket_id == 2


def test_appointment_in_its_slot_goes_ahead_of_walk_ins_but_not_before_it():
    due = Head(3, "A", Q.APPOINTMENT, NOW - 60, appointment_start=NOW - 60, number="YA003")
    early = Head(4, "A", Q.APPOINTMENT, NOW + 3600, appointment_start=NOW + 3600, number="YA004")
    walk = head(1, waited_min=40)
    pri = head(2, klass=Q.PRIORITY, waited_min=20)
    c = pick([walk, pri, due])
    assert c.head.ticket_id == 3 and c.reason.rule == "appointment"
    # Within the tolerance before the slot it is due too.
    soon = Head(5, "A", Q.APPOINTMENT, NOW + 600, appointment_start=NOW + 600, number="YA005")
    assert pick([walk, soon]).head.ticket_id == 5
    # An hour early it waits like a walk-in with its slot as its place: the walk-in goes first.
    assert pick([walk, early]).head.ticket_id == 1


def test_max_wait_overrides_priority_appointment_and_weights():
    w = WindowView(9, MappingProxyType({"A": 1.0, "B": 5.0}))
    old = head(1, "A", waited_min=61)
    due = Head(3, "A", Q.APPOINTMENT, NOW - 60, appointment_start=NOW - 60)
    c = pick([old, head(2, "B", klass=Q.PRIORITY, waited_min=50), due], window=w)
    assert c.head.ticket_id == 1 and c.reason.rule == "max_wait"
    d = c.reason.to_dict()
    assert d["rule"] == "max_wait" and d["detail"]["max_wait_minutes"] == 60
    assert {o["ticket"] for o in d["detail"]["compared"]} == {2, 3}


def test_named_window_transfer_goes_only_to_that_window_and_first_there():
    named = head(7, "A", waited_min=1, target_window=8)
    older = head(1, "A", waited_min=50)
    assert pick([older, named]).head.ticket_id == 7
    assert pick([older, named]).reason.rule == "named_window"
    other = WindowView(3, MappingProxyType({"A": 1.0}))
    assert pick([older, named], window=other).head.ticket_id == 1
    assert pick([named], window=other) is None
    # …but an overdue ticket still goes before a fresh named transfer.
    overdue = head(2, "A", waited_min=70)
    assert pick([overdue, named]).head.ticket_id == 2


def test_same_inputs_same_choice_and_reason_shows_the_comparison():
    heads = [head(1, waited_min=12), head(2, "B", waited_min=3)]
    a = pick(heads)
    b = pick(list(reversed(heads)))
    assert a.head == b.head
    d = a.reason.to_dict()
    assert d["detail"]["ticket"] == 1 and d["detail"]["waited_minutes"] == 12.0
    assert d["detail"]["compared"][0]["ticket"] == 2


def test_heads_wanted_lists_every_class_of_every_category():
    wanted = heads_wanted(W8)
    assert len(wanted) == 6 and ("A", Q.PRIORITY) in wanted and ("B", Q.APPOINTMENT) in wanted


def test_window_state_round_trips():
    s = WindowState(3)
    assert WindowState.from_dict(s.to_dict()) == s
    assert WindowState.from_dict(None) == WindowState()
