"""Calling (叫号) and everything a window does: call next or a chosen ticket, act on the current
ticket, pause, resume, sign in and out. All run inside a `HallTx` (hall.core.tx).

A call reads only the *heads* the policy needs (one indexed `ORDER BY queue_key, id LIMIT 1` per
(category, queue class) the window serves, plus the window's named-transfer queue, in one UNION
ALL round trip), lets `queueing.policy.choose` decide, and claims the winner with
`UPDATE … WHERE status = 'waiting'`. Its cost does not grow with the number of tickets waiting.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, bindparam, select, text, update

from hall.core.events import EventType, iso
from hall.core.tickets import T, W, emit_transition, illegal, load_ticket, load_window
from hall.core.tx import HallTx
from hall.errors import ApiError, conflict, invalid, not_found
from hall.store.fastsql import Fast
from hall.store.ticketmap import ticket_from_row
from queueing import lifecycle
from queueing.policy import Head, WindowState, WindowView, choose, heads_wanted
from queueing.tickets import IllegalMove, QueueClass, TicketStatus
from queueing.window_actions import WindowAction, refusal

__all__ = ["call_next", "window_action", "pause", "resume_window", "sign_in", "sign_out", "read_heads"]

_CLAIMABLE = Fast(select(T).where(T.c.id == bindparam("b_id"), T.c.status == "waiting"))
_HOLD = Fast(
    update(W)
    .where(W.c.id == bindparam("b_id"))
    .values(current_ticket_id=bindparam("current_ticket_id"), policy_state=bindparam("policy_state", type_=W.c.policy_state.type))
)
_MAX_CLAIM_TRIES = 5


@lru_cache(maxsize=1024)
def _heads_sql(wanted: tuple[tuple[str, str], ...]) -> Any:
    """One UNION ALL of head queries for these (category, class) pairs plus the named queue.

    Categories and classes are validated codes from the layout (capital letters, enum values),
    never user input, so they are written into the statement; the hall and window are bound.
    """
    cols = 'id, number, category, queue_class, queue_key, target_window, extra'
    parts = [
        f"SELECT * FROM (SELECT {cols} FROM tickets WHERE hall_id = :hall AND status = 'waiting' "
        f"AND category = '{c}' AND queue_class = '{k}' AND target_window IS NULL "
        f"ORDER BY queue_key, id LIMIT 1) AS h{i}"
        for i, (c, k) in enumerate(wanted)
    ]
    parts.append(
        f"SELECT * FROM (SELECT {cols} FROM tickets WHERE hall_id = :hall AND status = 'waiting' "
        f"AND target_window = :window ORDER BY queue_key, id LIMIT 1) AS hw"
    )
    return Fast(text(" UNION ALL ".join(parts)).columns(extra=JSON))


def read_heads(tx: HallTx, view: WindowView) -> list[Head]:
    """The heads `choose` needs for this window, in one round trip."""
    wanted = tuple((c, k.value) for c, k in heads_wanted(view))
    for c, k in wanted:
        if not c.isalpha() or not k.isalpha():  # pragma: no cover - the layout guarantees it
            raise ValueError(f"bad queue {c!r}/{k!r}")
    rows = _heads_sql(wanted).run(tx.conn, {"hall": tx.hall.id, "window": view.number}).all()
    return [
        Head(
            ticket_id=r.id, category=r.category, klass=QueueClass(r.queue_class), queue_key=r.queue_key,
            appointment_start=(r.extra or {}).get("appointment_start"), target_window=r.target_window, number=r.number,
        )
        for r in rows
    ]


def call_next(tx: HallTx, number: int, ticket_id: int | None = None) -> tuple[int, dict[str, Any]]:
    """POST …/windows/{w}/call. Finishes a ticket being served first; 409 while the current one
    is only called (start it or mark a no-show); `ticket_id` calls that ticket out of order."""
    layout_window = tx.hall.window(number)
    win = load_window(tx, number)
    _check_clerk(tx, win)
    current = load_ticket(tx, win.current_ticket_id) if win.current_ticket_id is not None else None
    refused = refusal(WindowAction.CALL, current.status if current else None, paused=win.paused)
    if refused == "window_paused":
        raise conflict("window_paused", f"window {number} is paused: resume it first")
    if refused is not None and current is not None:
        raise conflict(
            refused, f"{current.number} is called and not started: start it or mark a no-show first",
            ticket=current.number,
        )
    if current is not None and current.status is TicketStatus.SERVING:
        emit_transition(tx, current, lifecycle.finish(current, tx.now), finished_by_call=True)
    state = WindowState.from_dict(win.policy_state)
    view = WindowView.of(layout_window)

    if ticket_id is not None:
        chosen = load_ticket(tx, ticket_id)
        if chosen.status is not TicketStatus.WAITING:
            raise conflict("illegal_move", f"ticket {chosen.number} is {chosen.status.value}, not waiting")
        reason = {"rule": "staff_pick", "detail": {"ticket": chosen.id, "number": chosen.number, "by": _actor(tx)}}
        new_state = state
    else:
        for _ in range(_MAX_CLAIM_TRIES):
            heads = read_heads(tx, view)
            choice = choose(view, heads, state, tx.now, tx.hall.layout.rules)
            if choice is None:
                return 200, {"ticket": None, "reason": None}
            row = _CLAIMABLE.run(tx.conn, {"b_id": choice.head.ticket_id}).first()
            if row is not None:
                break
        else:  # pragma: no cover - only when another writer ignores the hall lock
            raise conflict("busy", "the queue kept changing; try again")
        chosen = ticket_from_row(row)
        reason = choice.reason.to_dict()
        new_state = choice.state
    try:
        tr = lifecycle.call(chosen, number, tx.now)
    except IllegalMove as e:
        raise illegal(e) from None
    emit_transition(tx, chosen, tr, reason=reason, waited_seconds=round(max(0.0, tx.now - chosen.wait_started_at), 1))
    _HOLD.run(tx.conn, {"b_id": win.id, "current_ticket_id": chosen.id, "policy_state": new_state.to_dict()})
    tx.audit("window.call", f"{number}:{chosen.number}", {"rule": reason["rule"]})
    return 200, {"ticket": _ticket_brief(tr.ticket, tx), "reason": reason}


def window_action(tx: HallTx, number: int, action: str) -> tuple[int, dict[str, Any]]:
    """recall | no-show | start | finish on the window's current ticket (what keypads press)."""
    win = load_window(tx, number)
    _check_clerk(tx, win)
    if win.current_ticket_id is None:
        raise conflict("no_current_ticket", f"window {number} holds no ticket")
    t = load_ticket(tx, win.current_ticket_id)
    if action in set(WindowAction) and refusal(action, t.status, paused=win.paused) is not None:
        raise conflict("illegal_move", f"cannot {action} {t.number}: it is {t.status.value}", ticket=t.number)
    rules = tx.hall.layout.rules
    try:
        if action == "recall":
            tr = lifecycle.recall(t, tx.now, rules)
        elif action == "no-show":
            tr = lifecycle.no_show(t, tx.now)
        elif action == "start":
            tr = lifecycle.start(t, tx.now)
        elif action == "finish":
            tr = lifecycle.finish(t, tx.now)
        else:
            raise not_found("action", action)
    except IllegalMove as e:
        raise illegal(e) from None
    emit_transition(tx, t, tr)
    tx.audit(f"window.{action}", f"{number}:{t.number}")
    return 200, {"ticket": _ticket_brief(tr.ticket, tx)}


def pause(tx: HallTx, number: int, reason: Any) -> tuple[int, dict[str, Any]]:
    """暂停服务 with a mandatory reason; the current ticket stays with the window."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        raise invalid("a pause needs a reason (at most 200 characters)", "reason")
    win = load_window(tx, number)
    _check_clerk(tx, win)
    if win.paused:
        raise conflict("already_paused", f"window {number} is already paused")
    tx.conn.execute(update(W).where(W.c.id == win.id).values(paused=True, pause_reason=reason.strip()))
    tx.emit(EventType.WINDOW_PAUSED, {"window": number, "reason": reason.strip()}, window=number)
    tx.audit("window.pause", str(number), {"reason": reason.strip()})
    return 200, {"window": number, "state": "paused"}


def resume_window(tx: HallTx, number: int, *, by_manager: bool = False) -> tuple[int, dict[str, Any]]:
    """End a pause. `by_manager`: a manager applying 潮汐 advice resumes a clerk's window (the
    caller has checked the manager's rights; the audit names the manager)."""
    win = load_window(tx, number)
    if not by_manager:
        _check_clerk(tx, win)
    if not win.paused:
        raise conflict("not_paused", f"window {number} is not paused")
    tx.conn.execute(update(W).where(W.c.id == win.id).values(paused=False, pause_reason=None))
    tx.emit(EventType.WINDOW_RESUMED, {"window": number}, window=number)
    tx.audit("window.resume", str(number))
    return 200, {"window": number, "state": "idle"}


def sign_in(tx: HallTx, number: int, takeover: bool = False) -> tuple[int, dict[str, Any]]:
    """A staff member takes the window (a window has one clerk at a time; signing in elsewhere
    signs them out there). At a window another clerk is signed in to: 409 `window_taken`
    unless `takeover`, which signs the other out and is audited (`window.takeover`)."""
    p = tx.principal
    if p is None or p.kind != "user":
        raise invalid("sign in with a staff login")
    win = load_window(tx, number)
    taken_from = win.staff_user_id if win.staff_user_id not in (None, p.id) else None
    if taken_from is not None and not takeover:
        raise conflict(
            "window_taken", f"{win.staff_name or 'another clerk'} is signed in at window {number}: confirm a takeover",
            staff_name=win.staff_name,
        )
    others = tx.conn.execute(
        select(W.c.id, W.c.number).where(W.c.hall_id == tx.hall.id, W.c.staff_user_id == p.id, W.c.id != win.id)
    ).all()
    for other in others:
        _leave(tx, other.number)
    if taken_from is not None:
        # A takeover: the window's held ticket and pause stay; window.signed_in below says so.
        tx.emit(EventType.WINDOW_SIGNED_OUT, {"window": number, "user": taken_from, "takeover": True}, window=number)
        tx.audit("window.takeover", str(number), {"from_user": taken_from, "from_name": win.staff_name})
    tx.conn.execute(update(W).where(W.c.id == win.id).values(staff_user_id=p.id, staff_name=p.name))
    # Screens forgot the window's ticket and pause when it closed (docs/REDUCER.md): the event
    # says what the window holds again, so every reducer reopens it in the same state.
    data: dict[str, Any] = {"window": number, "staff_name": p.name, "user": p.id, "paused": bool(win.paused)}
    if win.paused:
        data["pause_reason"] = win.pause_reason
    if win.current_ticket_id is not None:
        held = tx.conn.execute(select(T.c.id, T.c.number, T.c.status).where(T.c.id == win.current_ticket_id)).first()
        if held is not None:
            data["current"] = {"id": held.id, "number": held.number, "status": held.status}
    tx.emit(EventType.WINDOW_SIGNED_IN, data, window=number)
    tx.audit("window.sign_in", str(number))
    return 200, {"window": number, "staff_name": p.name, "took_over": taken_from is not None}


def sign_out(tx: HallTx, number: int) -> tuple[int, dict[str, Any]]:
    """Sign the window's clerk out: the clerk themselves, a manager, or the window's bridge."""
    win = load_window(tx, number)
    if win.staff_user_id is None:
        raise conflict("not_signed_in", f"nobody is signed in at window {number}")
    p = tx.principal
    if p is not None and p.kind == "user" and p.role == "staff":
        _check_clerk(tx, win)
    _leave(tx, number)
    tx.audit("window.sign_out", str(number))
    return 200, {"window": number}


def _check_clerk(tx: HallTx, win: Any) -> None:
    """A user acts at a window only as its clerk: where another clerk is signed in, ApiError 403
    `window_taken` (taking the window over is an explicit sign-in). Keypads, through the
    bridge, act for whoever is signed in there."""
    p = tx.principal
    if p is None or p.kind != "user" or win.staff_user_id is None or win.staff_user_id == p.id:
        return
    raise ApiError(
        403, "window_taken",
        f"{win.staff_name or 'another clerk'} is signed in at window {win.number}: sign in there (takeover) first",
    )


def _leave(tx: HallTx, number: int) -> None:
    """Sign the clerk out of `number`: the window closes (hall.core.windowstate), so it may hold
    no ticket (finish, transfer or suspend it first), and its pause ends with the shift."""
    win = load_window(tx, number)
    if win.current_ticket_id is not None:
        raise conflict(
            "window_holds_ticket", f"window {number} still holds a ticket: finish, transfer or suspend it first", window=number
        )
    tx.conn.execute(
        update(W).where(W.c.id == win.id).values(staff_user_id=None, staff_name=None, paused=False, pause_reason=None)
    )
    tx.emit(EventType.WINDOW_SIGNED_OUT, {"window": number}, window=number)


def _actor(tx: HallTx) -> str:
    return tx.principal.actor() if tx.principal else "system"


def _ticket_brief(t: Any, tx: HallTx) -> dict[str, Any]:
    return {
        "id": t.id, "number": t.number, "category": t.category, "status": t.status.value, "window": t.window,
        "recalls": t.recalls, "called_at": iso(t.called_at, tx.hall.tz) if t.called_at else None,
    }
