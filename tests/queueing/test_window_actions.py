"""The console's buttons and the API's refusals come from one function that agrees with the
transitions themselves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from queueing import lifecycle
from queueing.layout import Rules
from queueing.tickets import IllegalMove, SuspendKind, TicketStatus
from queueing.window_actions import WindowAction, allowed_actions, refusal

T0 = 1_700_000_000.0
RULES = Rules()
A = WindowAction


def _ticket(status: TicketStatus):
    t = lifecycle.issue(1, "A001", "A", T0).ticket
    return replace(t, status=status, window=2)


def _run(action: WindowAction, status: TicketStatus) -> None:
    t = _ticket(status)
    moves = {
        A.RECALL: lambda: lifecycle.recall(t, T0, RULES),
        A.START: lambda: lifecycle.start(t, T0),
        A.FINISH: lambda: lifecycle.finish(t, T0),
        A.NO_SHOW: lambda: lifecycle.no_show(t, T0),
        A.TRANSFER: lambda: lifecycle.transfer(t, T0, to_category="B"),
        A.SUSPEND: lambda: lifecycle.suspend(t, T0, SuspendKind.MISSING_PAPERS),
    }
    moves[action]()


@pytest.mark.parametrize("status", [TicketStatus.CALLED, TicketStatus.SERVING])
@pytest.mark.parametrize("action", [A.RECALL, A.START, A.FINISH, A.NO_SHOW, A.TRANSFER, A.SUSPEND])
def test_an_action_on_the_current_ticket_is_allowed_exactly_when_its_transition_runs(action, status):
    try:
        _run(action, status)
        ran = True
    except IllegalMove:
        ran = False
    assert (action in allowed_actions(status, paused=False)) is ran


def test_a_called_ticket_cannot_be_finished_nor_the_next_one_called():
    allowed = allowed_actions(TicketStatus.CALLED, paused=False)
    assert A.FINISH not in allowed and A.CALL not in allowed
    assert {A.START, A.RECALL, A.NO_SHOW} <= allowed
    assert refusal(A.CALL, TicketStatus.CALLED, paused=False) == "window_busy"
    assert refusal(A.FINISH, TicketStatus.CALLED, paused=False) == "illegal_move"


def test_calling_while_serving_is_allowed_because_it_finishes_first():
    allowed = allowed_actions(TicketStatus.SERVING, paused=False)
    assert A.CALL in allowed and A.FINISH in allowed and A.START not in allowed


def test_an_empty_window_may_call_and_pause_only():
    assert allowed_actions(None, paused=False) == {A.CALL, A.PAUSE}
    assert refusal(A.FINISH, None, paused=False) == "no_current_ticket"


def test_a_paused_window_may_only_resume_and_finish_what_it_holds():
    assert allowed_actions(None, paused=True) == {A.RESUME}
    assert refusal(A.CALL, None, paused=True) == "window_paused"
    assert A.FINISH in allowed_actions(TicketStatus.SERVING, paused=True)
