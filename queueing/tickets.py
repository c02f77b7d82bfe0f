"""Tickets: states, classes, channels and the ticket record the engine reasons about."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "TicketStatus",
    "PriorityClass",
    "QueueClass",
    "Channel",
    "SuspendKind",
    "TicketEventType",
    "MatterProgress",
    "Ticket",
    "TicketError",
    "IllegalMove",
    "queue_class",
    "OPEN_STATUSES",
    "FINAL_STATUSES",
]


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    SUSPENDED = "suspended"  # 挂起
    NO_SHOW = "no_show"  # 过号: may re-check-in the same day
    FINISHED = "finished"  # 办结
    CANCELLED = "cancelled"
    CLOSED = "closed"  # closed by the end of the day, with a reason


OPEN_STATUSES = frozenset(
    {TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.SUSPENDED, TicketStatus.NO_SHOW}
)
FINAL_STATUSES = frozenset({TicketStatus.FINISHED, TicketStatus.CANCELLED, TicketStatus.CLOSED})


class PriorityClass(StrEnum):
    NORMAL = "normal"
    ELDERLY = "elderly"  # 老年人
    DISABLED = "disabled"  # 残疾人
    MILITARY = "military"  # 军人
    PREGNANT = "pregnant"  # 孕妇
    GREEN = "green"  # 绿色通道 (key projects)


class QueueClass(StrEnum):
    """The three queues of each category: what the dispatch policy compares."""

    NORMAL = "normal"
    PRIORITY = "priority"
    APPOINTMENT = "appointment"


class Channel(StrEnum):
    KIOSK = "kiosk"
    MOBILE = "mobile"
    APPOINTMENT = "appointment"  # 预约签到
    STAFF = "staff"
    API = "api"


class SuspendKind(StrEnum):
    """挂起 (容缺受理): why a ticket is set aside."""

    MISSING_PAPERS = "missing_papers"  # 不持件: the person fetches a missing paper
    HOLDING = "holding"  # 持件: papers kept at the window meanwhile
    WAITING = "waiting"  # 等待: waiting on something else (a back office, a system)


class TicketEventType(StrEnum):
    ISSUED = "ticket.issued"
    CALLED = "ticket.called"
    RECALLED = "ticket.recalled"
    STARTED = "ticket.started"
    FINISHED = "ticket.finished"
    NO_SHOW = "ticket.no_show"
    RECHECKED_IN = "ticket.rechecked_in"
    TRANSFERRED = "ticket.transferred"
    SUSPENDED = "ticket.suspended"
    RESUMED = "ticket.resumed"
    CANCELLED = "ticket.cancelled"
    CLOSED = "ticket.closed"
    RATED = "ticket.rated"
    MATTER_STARTED = "ticket.matter_started"
    MATTER_FINISHED = "ticket.matter_finished"


def queue_class(priority: PriorityClass | str, appointment_start: float | None) -> QueueClass:
    """The queue a ticket waits in: appointment, then priority, else normal."""
    if appointment_start is not None:
        return QueueClass.APPOINTMENT
    if priority != PriorityClass.NORMAL:
        return QueueClass.PRIORITY
    return QueueClass.NORMAL


@dataclass(frozen=True, slots=True)
class MatterProgress:
    """One matter (事项) of a ticket that lists several (一事联办)."""

    code: str
    started_at: float | None = None
    finished_at: float | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """One visit. Instants are epoch seconds; `queue_key` is its sortable place in time."""

    id: int
    number: str
    category: str
    priority: PriorityClass
    channel: Channel
    status: TicketStatus
    queue_key: float
    issued_at: float
    wait_started_at: float
    appointment_start: float | None = None
    target_window: int | None = None  # a transfer to a named window: only that window calls it
    window: int | None = None  # the window holding it (called/serving) or that last held it
    recalls: int = 0
    called_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    suspend_kind: SuspendKind | None = None
    suspended_by: int | None = None
    transfers: int = 0
    matters: tuple[MatterProgress, ...] = field(default_factory=tuple)
    close_reason: str | None = None
    # Waiting already done in earlier periods that ended by a call, since issue or the last
    # re-check-in (queueing.metrics: a transferred or resumed ticket's waits add up).
    waited_seconds: float = 0.0

    @property
    def queue_class(self) -> QueueClass:
        return queue_class(self.priority, self.appointment_start)

    @property
    def wait_origin(self) -> float:
        """The instant from which this ticket's wait so far counts: while it waits, its wait
        so far is `max(0, now - wait_origin)` (earlier periods included), exactly
        `queueing.metrics.wait_seconds(its events, now)`. Sortable: the smallest
        `wait_origin` among waiting tickets is the longest wait."""
        return self.wait_started_at - self.waited_seconds

    def wait_so_far(self, now: float) -> float:
        """Seconds waited by `now` on the metrics' definition (earlier periods included; the
        current one only while waiting)."""
        if self.status is TicketStatus.WAITING:
            return self.waited_seconds + max(0.0, now - self.wait_started_at)
        return self.waited_seconds


class TicketError(Exception):
    """Base of the engine's ticket errors; `code` is machine-readable."""

    code = "ticket_error"


class IllegalMove(TicketError):
    """A move the ticket's state does not allow (finishing a waiting ticket, …)."""

    code = "illegal_move"

    def __init__(self, action: str, status: TicketStatus | str, why: str = "") -> None:
        text = f"cannot {action} a ticket that is {status}"
        super().__init__(f"{text}: {why}" if why else text)
        self.action = action
        self.status = status
