"""差评整改 cases, pure: the steps of a bad-rating case and its deadline.

Every 差评 opens a case with a deadline in working days on the hall's calendar. Steps, in order:

    open --verify--> verified --rectify | explain--> rectified | explained
         --follow_up--> followed_up --close--> closed

`follow_up` (回访) records the outcome, the person's reason when the pad could not take one (it is
then required), and the person's new rating if given. A case whose rating was set aside by an
upheld appeal (申诉复核) is `withdrawn` from any open step. Every step appends an audit entry;
a step out of order raises `CaseError` and changes nothing (the functions return new objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from hall.operations.ratings.rules import LEVEL_NAMES

__all__ = [
    "CaseStatus",
    "AuditEntry",
    "Case",
    "CaseError",
    "open_case",
    "verify",
    "rectify",
    "explain",
    "follow_up",
    "close",
    "withdraw",
    "is_overdue",
    "handled_on_time",
    "STATUS_NAMES",
]


class CaseStatus(StrEnum):
    OPEN = "open"
    VERIFIED = "verified"
    RECTIFIED = "rectified"
    EXPLAINED = "explained"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


STATUS_NAMES: dict[str, str] = {
    "open": "待核实",
    "verified": "已核实",
    "rectified": "已整改",
    "explained": "已解释说明",
    "followed_up": "已回访",
    "closed": "已办结",
    "withdrawn": "申诉撤销",
}


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    ticket_id: int
    level: int
    opened_at: float
    due_at: float
    reason: str = ""
    reason_pending: bool = False
    status: CaseStatus = CaseStatus.OPEN
    assignee: str | None = None
    outcome: str | None = None
    new_level: int | None = None
    closed_at: float | None = None
    audit: tuple[AuditEntry, ...] = ()


class CaseError(ValueError):
    """A step out of order or with missing data. `code`: illegal_step, missing_field, bad_level."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _step(case: Case, allowed: set[CaseStatus], action: str) -> None:
    if case.status not in allowed:
        raise CaseError("illegal_step", f"cannot {action} a case that is {case.status.value}")


def _need(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise CaseError("missing_field", f"{name} is required")
    return text


def _log(case: Case, at: float, actor: str, action: str, **detail: Any) -> tuple[AuditEntry, ...]:
    return case.audit + (AuditEntry(at, actor, action, detail),)


def open_case(
    ticket_id: int,
    level: int,
    reason: str,
    reason_pending: bool,
    opened_at: float,
    due_at: float,
    assignee: str | None = None,
) -> Case:
    """A new case for a bad rating (the background reader calls this per `ticket.rated`)."""
    case = Case(ticket_id, level, opened_at, due_at, reason, reason_pending, assignee=assignee)
    return replace(
        case,
        audit=_log(case, opened_at, "system", "open", level=level, due_at=due_at,
                   reason=reason, reason_pending=reason_pending),
    )


def verify(case: Case, actor: str, note: str, at: float) -> Case:
    """核实: what the manager found (the recording, the staff member's account)."""
    _step(case, {CaseStatus.OPEN}, "verify")
    text = _need(note, "note")
    return replace(case, status=CaseStatus.VERIFIED, audit=_log(case, at, actor, "verify", note=text))


def rectify(case: Case, actor: str, note: str, at: float) -> Case:
    """整改: what was changed because the complaint was founded."""
    _step(case, {CaseStatus.VERIFIED}, "rectify")
    text = _need(note, "note")
    return replace(case, status=CaseStatus.RECTIFIED, audit=_log(case, at, actor, "rectify", note=text))


def explain(case: Case, actor: str, note: str, at: float) -> Case:
    """解释说明: the complaint was not founded; what was explained to the person."""
    _step(case, {CaseStatus.VERIFIED}, "explain")
    text = _need(note, "note")
    return replace(case, status=CaseStatus.EXPLAINED, audit=_log(case, at, actor, "explain", note=text))


def follow_up(
    case: Case,
    actor: str,
    outcome: str,
    at: float,
    reason: str | None = None,
    new_level: int | None = None,
) -> Case:
    """回访: outcome of the call back; `reason` is required when the pad could not take one."""
    _step(case, {CaseStatus.RECTIFIED, CaseStatus.EXPLAINED}, "follow up")
    text = _need(outcome, "outcome")
    got_reason = case.reason
    if case.reason_pending:
        got_reason = _need(reason, "reason")
    elif reason and reason.strip():
        got_reason = reason.strip()
    if new_level is not None and new_level not in LEVEL_NAMES:
        raise CaseError("bad_level", "new_level must be 1..5")
    return replace(
        case,
        status=CaseStatus.FOLLOWED_UP,
        outcome=text,
        reason=got_reason,
        reason_pending=False,
        new_level=new_level,
        audit=_log(case, at, actor, "follow_up", outcome=text, reason=got_reason, new_level=new_level),
    )


def close(case: Case, actor: str, at: float, note: str = "") -> Case:
    """办结: only after the 回访."""
    _step(case, {CaseStatus.FOLLOWED_UP}, "close")
    return replace(
        case,
        status=CaseStatus.CLOSED,
        closed_at=at,
        audit=_log(case, at, actor, "close", note=note.strip(), on_time=at <= case.due_at),
    )


def withdraw(case: Case, actor: str, at: float, note: str) -> Case:
    """The rating was set aside by an upheld appeal (申诉复核)."""
    _step(
        case,
        {CaseStatus.OPEN, CaseStatus.VERIFIED, CaseStatus.RECTIFIED, CaseStatus.EXPLAINED,
         CaseStatus.FOLLOWED_UP},
        "withdraw",
    )
    return replace(
        case,
        status=CaseStatus.WITHDRAWN,
        closed_at=at,
        audit=_log(case, at, actor, "withdraw", note=_need(note, "note")),
    )


def is_overdue(case: Case, now: float) -> bool:
    """Still open past its deadline, or closed after it."""
    if case.status is CaseStatus.WITHDRAWN:
        return False
    if case.status is CaseStatus.CLOSED:
        return case.closed_at is not None and case.closed_at > case.due_at
    return now > case.due_at


def handled_on_time(case: Case) -> bool:
    return (
        case.status is CaseStatus.CLOSED
        and case.closed_at is not None
        and case.closed_at <= case.due_at
    )
