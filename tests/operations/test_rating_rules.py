"""好差评 rules and 申诉复核 (pure)."""

from __future__ import annotations

import pytest

from hall.operations.cases.appeals import AppealError, AppealStatus, decide_appeal, file_appeal
from hall.operations.ratings.rules import (
    RatingPolicy,
    RatingRefused,
    RatingRequest,
    TicketFacts,
    check_rating,
    default_rating_due,
    satisfaction_rate,
)

DAY = 86_400.0
FINISHED = TicketFacts(status="finished", finished_at=1_000_000.0, served_by_staff_ids=frozenset({7}))
POLICY = RatingPolicy()


def refused(request: RatingRequest, ticket: TicketFacts = FINISHED, now: float = 1_000_100.0) -> str:
    with pytest.raises(RatingRefused) as info:
        check_rating(request, ticket, POLICY, now)
    return info.value.code


def test_good_rating_with_indicators_accepted() -> None:
    got = check_rating(
        RatingRequest(level=5, channel="pad", indicators={"attitude": 5, "efficiency": 4}),
        FINISHED, POLICY, 1_000_100.0,
    )
    assert got.level == 5 and not got.bad and not got.reason_pending
    assert got.indicators == {"attitude": 5, "efficiency": 4}


def test_second_rating_refused() -> None:
    rated = TicketFacts("finished", 1_000_000.0, already_rated=True)
    assert refused(RatingRequest(level=4, channel="pad"), rated) == "already_rated"


def test_bad_rating_needs_reason_where_channel_can_give_one() -> None:
    for channel in ("pad", "qr", "sms"):
        assert refused(RatingRequest(level=2, channel=channel)) == "reason_required"
    got = check_rating(RatingRequest(level=1, channel="qr", reasons=["等太久"]), FINISHED, POLICY, 1_000_100.0)
    assert got.bad and got.reasons == ("等太久",) and not got.reason_pending


def test_five_key_pad_bad_rating_kept_with_reason_pending() -> None:
    got = check_rating(RatingRequest(level=1, channel="keypad"), FINISHED, POLICY, 1_000_100.0)
    assert got.bad and got.reason_pending and got.reasons == ()


def test_period_over_and_unfinished_refused() -> None:
    assert refused(RatingRequest(level=5, channel="qr"), now=1_000_000.0 + 7 * DAY + 1) == "period_over"
    waiting = TicketFacts("serving", None)
    assert refused(RatingRequest(level=5, channel="qr"), waiting) == "not_finished"


def test_staff_cannot_rate_own_ticket_but_other_staff_can() -> None:
    assert refused(RatingRequest(level=5, channel="qr", rater_staff_id=7)) == "own_ticket"
    got = check_rating(RatingRequest(level=5, channel="qr", rater_staff_id=8), FINISHED, POLICY, 1_000_100.0)
    assert got.level == 5


def test_bad_inputs_refused() -> None:
    assert refused(RatingRequest(level=6, channel="pad")) == "bad_level"
    assert refused(RatingRequest(level=5, channel="default")) == "bad_channel"
    assert refused(RatingRequest(level=5, channel="fax")) == "bad_channel"
    assert refused(RatingRequest(level=5, channel="pad", indicators={"speed": 5})) == "bad_indicator"
    assert refused(RatingRequest(level=5, channel="pad", indicators={"attitude": 0})) == "bad_indicator"


def test_default_level_after_period() -> None:
    policy = RatingPolicy(default_level=3)
    unrated = TicketFacts("finished", 1_000_000.0)
    assert default_rating_due(unrated, policy, 1_000_000.0 + 6 * DAY) is None
    assert default_rating_due(unrated, policy, 1_000_000.0 + 7 * DAY + 1) == 3
    assert default_rating_due(unrated, RatingPolicy(), 1_000_000.0 + 30 * DAY) is None
    with pytest.raises(ValueError):
        RatingPolicy(default_level=2)


def test_satisfaction_rate_counts_fair_and_above() -> None:
    assert satisfaction_rate([5, 4, 3, 2]) == 0.75
    assert satisfaction_rate([]) is None


def test_appeal_decided_by_a_manager_only() -> None:
    appeal = file_appeal(1, "staff7", "恶意差评：未办理业务", 10.0, None)
    with pytest.raises(AppealError) as info:
        file_appeal(1, "staff7", "again", 11.0, appeal)
    assert info.value.code == "already_appealed"
    with pytest.raises(AppealError) as info:
        decide_appeal(appeal, "staff8", "staff", True, "ok", 12.0)
    assert info.value.code == "forbidden"
    decided = decide_appeal(appeal, "boss", "manager", True, "录像核实，评价与办件不符", 12.0)
    assert decided.status is AppealStatus.UPHELD and decided.decided_by == "boss"
    with pytest.raises(AppealError) as info:
        decide_appeal(decided, "boss", "manager", False, "x", 13.0)
    assert info.value.code == "already_decided"
