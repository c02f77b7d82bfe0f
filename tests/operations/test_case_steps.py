"""差评整改 case steps (pure)."""

from __future__ import annotations

import pytest

from hall.operations.cases.rules import (
    CaseError,
    CaseStatus,
    close,
    explain,
    follow_up,
    handled_on_time,
    is_overdue,
    open_case,
    rectify,
    verify,
    withdraw,
)


def test_full_path_with_pending_reason_recorded_at_follow_up() -> None:
    case = open_case(1, 1, "", True, opened_at=100.0, due_at=1000.0, assignee="boss")
    case = verify(case, "boss", "查看录像，窗口人员态度生硬", 200.0)
    case = rectify(case, "boss", "约谈并培训", 300.0)
    with pytest.raises(CaseError) as info:
        follow_up(case, "boss", "群众表示认可", 400.0)
    assert info.value.code == "missing_field"  # the pad could not take the reason
    case = follow_up(case, "boss", "群众表示认可", 400.0, reason="态度不好", new_level=4)
    assert case.reason == "态度不好" and not case.reason_pending and case.new_level == 4
    case = close(case, "boss", 500.0)
    assert case.status is CaseStatus.CLOSED
    assert handled_on_time(case) and not is_overdue(case, 5000.0)
    assert [e.action for e in case.audit] == ["open", "verify", "rectify", "follow_up", "close"]


def test_steps_out_of_order_refused_without_change() -> None:
    case = open_case(1, 2, "等太久", False, 100.0, 1000.0)
    with pytest.raises(CaseError) as info:
        close(case, "boss", 150.0)
    assert info.value.code == "illegal_step"
    with pytest.raises(CaseError):
        rectify(case, "boss", "x", 150.0)
    assert case.status is CaseStatus.OPEN and len(case.audit) == 1
    with pytest.raises(CaseError) as info:
        verify(case, "boss", "  ", 150.0)
    assert info.value.code == "missing_field"


def test_explained_path_and_overdue() -> None:
    case = open_case(1, 2, "等太久", False, 100.0, 1000.0)
    assert not is_overdue(case, 999.0) and is_overdue(case, 1001.0)
    case = explain(verify(case, "m", "高峰期", 200.0), "m", "已解释高峰原因", 300.0)
    case = close(follow_up(case, "m", "理解", 1100.0), "m", 1200.0)
    assert is_overdue(case, 1200.0) and not handled_on_time(case)
    assert case.audit[-1].detail["on_time"] is False


def test_withdrawn_case_never_overdue() -> None:
    case = withdraw(open_case(1, 1, "x", False, 100.0, 1000.0), "boss", 2000.0, "申诉成立")
    assert case.status is CaseStatus.WITHDRAWN and not is_overdue(case, 5000.0)
    with pytest.raises(CaseError):
        withdraw(case, "boss", 2001.0, "again")
