"""申诉复核, pure: staff or the hall appeal a mistaken or malicious rating; a manager decides.

An appeal is filed against one rating with a reason; only a manager (or admin) decides it, and
never the person who filed it. Upheld: the rating is set aside (it no longer counts in the
statistics or the provincial export, and its case is withdrawn). Rejected: nothing changes.
One appeal per rating.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["AppealStatus", "Appeal", "AppealError", "file_appeal", "decide_appeal", "DECIDER_ROLES"]

DECIDER_ROLES = frozenset({"manager", "admin"})


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Appeal:
    ticket_id: int
    filed_by: str
    reason: str
    filed_at: float
    status: AppealStatus = AppealStatus.PENDING
    decided_by: str | None = None
    decided_at: float | None = None
    decision_note: str = ""


class AppealError(ValueError):
    """`code`: missing_field, already_appealed, forbidden, already_decided."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def file_appeal(
    ticket_id: int, filed_by: str, reason: str, at: float, existing: Appeal | None
) -> Appeal:
    if existing is not None:
        raise AppealError("already_appealed", "该评价已提出申诉")
    text = (reason or "").strip()
    if not text:
        raise AppealError("missing_field", "申诉理由不能为空")
    return Appeal(ticket_id, filed_by, text, at)


def decide_appeal(
    appeal: Appeal, decider: str, role: str, upheld: bool, note: str, at: float
) -> Appeal:
    if role not in DECIDER_ROLES:
        raise AppealError("forbidden", "只有管理人员可以复核申诉")
    if decider == appeal.filed_by:
        raise AppealError("forbidden", "申诉人不能复核自己的申诉")
    if appeal.status is not AppealStatus.PENDING:
        raise AppealError("already_decided", "该申诉已复核")
    text = (note or "").strip()
    if not text:
        raise AppealError("missing_field", "复核意见不能为空")
    return replace(
        appeal,
        status=AppealStatus.UPHELD if upheld else AppealStatus.REJECTED,
        decided_by=decider,
        decided_at=at,
        decision_note=text,
    )
