"""好差评 rules (GB/T 39734, 国办发〔2019〕51号), pure: what a rating may be and when.

- Five levels, 非常满意 (5) … 非常不满意 (1); one rating per ticket (一次一评).
- 差评 = the bottom two levels; a reason is required, except from a channel that has no way to
  give one (the five-key pad): then the rating is kept with its reason *pending*, and the 回访
  of the 差评整改 case records it.
- Optional indicators after the level: 整体满意度, 服务效率, 服务水平, 服务态度, each 1..5.
- A rating is accepted only within a period after the ticket finished (default 7 days); after
  it, a configured default level (some provinces record 基本满意) or none is recorded.
- Staff never rate a ticket they served themselves.

The server stores ratings; it calls `check_rating` before storing, so both the pad endpoint and
the mobile/SMS pages obey the same rules. Errors are `RatingRefused` with a stable `code`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

__all__ = [
    "Level",
    "LEVEL_NAMES",
    "INDICATORS",
    "RatingChannel",
    "RatingPolicy",
    "RatingRequest",
    "TicketFacts",
    "CheckedRating",
    "RatingRefused",
    "check_rating",
    "RaterFacts",
    "check_rater",
    "default_rating_due",
    "is_bad",
    "satisfaction_rate",
]

DAY = 86_400.0


class Level(IntEnum):
    VERY_DISSATISFIED = 1
    DISSATISFIED = 2
    FAIR = 3
    SATISFIED = 4
    VERY_SATISFIED = 5


LEVEL_NAMES: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}

# Code -> name of the optional offline indicators (评价指标), asked after the level.
INDICATORS: dict[str, str] = {
    "overall": "整体满意度",
    "efficiency": "服务效率",
    "quality": "服务水平",
    "attitude": "服务态度",
}


class RatingChannel(StrEnum):
    """Where a rating came from; the provincial export names them (评价渠道)."""

    PAD = "pad"  # tablet pad at the window: can ask for a reason
    KEYPAD = "keypad"  # five-key pad (评价器): no way to give a reason
    QR = "qr"  # QR code on the ticket -> mobile page
    SMS = "sms"  # link sent by SMS
    DEFAULT = "default"  # recorded by the system after the rating period
    FOLLOW_UP = "follow_up"  # new rating given at the 回访 of a case
    PAPER = "paper"  # a paper questionnaire (for the elderly), entered later by staff

    @property
    def can_give_reason(self) -> bool:
        return self is not RatingChannel.KEYPAD

    @property
    def export_name(self) -> str:
        return {
            "pad": "评价器",
            "keypad": "评价器",
            "qr": "二维码",
            "sms": "短信",
            "default": "默认评价",
            "follow_up": "回访",
            "paper": "纸质问卷",
        }[self.value]


def is_bad(level: int) -> bool:
    """差评: 不满意 or 非常不满意."""
    return level <= Level.DISSATISFIED


@dataclass(frozen=True)
class RatingPolicy:
    """Per-hall rating rules. `default_level` None means no default is recorded."""

    period_days: float = 7.0
    default_level: int | None = None
    reason_max_chars: int = 500

    def __post_init__(self) -> None:
        if self.period_days <= 0:
            raise ValueError("period_days must be > 0")
        if self.default_level is not None and self.default_level not in LEVEL_NAMES:
            raise ValueError("default_level must be 1..5 or None")
        if self.default_level is not None and is_bad(self.default_level):
            # A default 差评 would open cases no one can verify.
            raise ValueError("default_level cannot be a bad level")


@dataclass(frozen=True)
class RatingRequest:
    level: int
    channel: str
    reasons: Sequence[str] = ()
    indicators: Mapping[str, int] = field(default_factory=dict)
    rater_staff_id: int | None = None  # set when the request carries a staff login


@dataclass(frozen=True)
class TicketFacts:
    status: str
    finished_at: float | None
    served_by_staff_ids: frozenset[int] = frozenset()
    already_rated: bool = False


@dataclass(frozen=True)
class CheckedRating:
    level: int
    channel: RatingChannel
    reasons: tuple[str, ...]
    indicators: dict[str, int]
    bad: bool
    reason_pending: bool


class RatingRefused(ValueError):
    """A rating breaks a rule. `code` is stable: already_rated, not_finished, period_over,
    own_ticket, bad_level, bad_channel, bad_indicator, reason_required, reason_too_long."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_rating(
    request: RatingRequest, ticket: TicketFacts, policy: RatingPolicy, now: float
) -> CheckedRating:
    """Validate one rating; returns what to store or raises RatingRefused."""
    if ticket.already_rated:
        raise RatingRefused("already_rated", "该办件已评价（一次一评）")
    try:
        channel = RatingChannel(request.channel)
    except ValueError:
        raise RatingRefused("bad_channel", f"unknown channel {request.channel!r}") from None
    if channel in (RatingChannel.DEFAULT, RatingChannel.FOLLOW_UP):
        raise RatingRefused("bad_channel", f"channel {channel} is recorded by the system only")
    if channel is RatingChannel.PAPER and request.rater_staff_id is None:
        raise RatingRefused("bad_channel", "a paper questionnaire is entered by a member of staff")
    if not isinstance(request.level, int) or request.level not in LEVEL_NAMES:
        raise RatingRefused("bad_level", "level must be 1..5")
    if ticket.status != "finished" or ticket.finished_at is None:
        raise RatingRefused("not_finished", "只能对已办结的事项评价")
    if now > ticket.finished_at + policy.period_days * DAY:
        raise RatingRefused("period_over", f"评价期（{policy.period_days:g}天）已过")
    if request.rater_staff_id is not None and request.rater_staff_id in ticket.served_by_staff_ids:
        raise RatingRefused("own_ticket", "工作人员不能评价自己办理的事项")
    indicators: dict[str, int] = {}
    for key, value in request.indicators.items():
        if key not in INDICATORS:
            raise RatingRefused("bad_indicator", f"unknown indicator {key!r}")
        if not isinstance(value, int) or value not in LEVEL_NAMES:
            raise RatingRefused("bad_indicator", f"indicator {key} must be 1..5")
        indicators[key] = value
    reasons = tuple(r.strip() for r in request.reasons if r and r.strip())
    if sum(len(r) for r in reasons) > policy.reason_max_chars:
        raise RatingRefused("reason_too_long", "差评原因过长")
    bad = is_bad(request.level)
    pending = False
    if bad and not reasons:
        if channel.can_give_reason:
            raise RatingRefused("reason_required", "差评须填写原因")
        pending = True  # the 回访 records it
    return CheckedRating(request.level, channel, reasons, indicators, bad, pending)


@dataclass(frozen=True)
class RaterFacts:
    """Who sends a rating and what their window last finished.

    `kind` is "person" (the progress token of that ticket), "user" (admin or manager), or a device
    kind; `window` is the window the device rates for (a pad's own; the one a bridge names);
    `last_finished` the ticket that window finished last, None when it has none."""

    kind: str
    window: int | None = None
    last_finished: int | None = None


def check_rater(rater: RaterFacts, ticket_id: int) -> None:
    """A device rates only the ticket its window finished last (the person standing there now);
    a kiosk, screen or a device without a window never rates. Raises RatingRefused
    (`not_your_window`, `not_a_rater`)."""
    if rater.kind in ("person", "user"):
        return
    if rater.kind not in ("pad", "bridge"):
        raise RatingRefused("not_a_rater", f"a {rater.kind} may not rate")
    if rater.window is None:
        raise RatingRefused("not_your_window", "a rating device must name its window")
    if rater.last_finished != ticket_id:
        raise RatingRefused("not_your_window", f"ticket {ticket_id} is not the one window {rater.window} finished last")


def default_rating_due(
    ticket: TicketFacts, policy: RatingPolicy, now: float
) -> int | None:
    """The default level to record now for an unrated ticket whose period is over, or None."""
    if policy.default_level is None or ticket.already_rated:
        return None
    if ticket.status != "finished" or ticket.finished_at is None:
        return None
    if now <= ticket.finished_at + policy.period_days * DAY:
        return None
    return policy.default_level


def satisfaction_rate(levels: Sequence[int]) -> float | None:
    """满意率: share of ratings that are not 差评 (基本满意 and above), None with no ratings."""
    if not levels:
        return None
    return sum(1 for level in levels if not is_bad(level)) / len(levels)
