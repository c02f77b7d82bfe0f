"""Tables of hall operations, on the server's declarative `Base` (revision 0002_operations).

Instants are float epoch seconds (UTC) as everywhere; days are hall-local ISO dates (text).
Personal data of appointments is stored only encrypted (`*_enc`) and as keyed hashes (`*_hash`)
made with the server's helpers, so that lookups work without the clear value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hall.store.models import Base, BigId

__all__ = [
    "OpCursor",
    "CaseRow",
    "CaseAuditRow",
    "AppealRow",
    "TicketLink",
    "SlotRow",
    "AppointmentRow",
    "AlertRow",
    "WebhookEndpoint",
    "WebhookDelivery",
    "WebhookAttempt",
    "PersonNotice",
    "HallDayFigures",
    "ReplicationState",
    "ReplicationRequest",
]


class OpCursor(Base):
    """How far a background reader has read a hall's events table (by seq), so that a restart
    resumes where it stopped and nothing is missed or done twice."""

    __tablename__ = "op_cursors"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class CaseRow(Base):
    """差评整改 case: one per bad rating."""

    __tablename__ = "op_cases"
    __table_args__ = (Index("ix_op_cases_hall_status", "hall_id", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(BigId, unique=True)
    number: Mapped[str] = mapped_column(String(16), default="")
    category: Mapped[str] = mapped_column(String(4), default="")
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staff_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staff_name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    working_days: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[float] = mapped_column(Float)
    due_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class CaseAuditRow(Base):
    """Every step of a case, in order (the full audit trail)."""

    __tablename__ = "op_case_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("op_cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppealRow(Base):
    """申诉复核 of one rating."""

    __tablename__ = "op_appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(BigId, unique=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class TicketLink(Base):
    """办件编号 and 事项编码 linked to a ticket at the window (for 一网通办 and the 好差评 export)."""

    __tablename__ = "op_ticket_links"
    ticket_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    case_number: Mapped[str] = mapped_column(String(64))
    matter_code: Mapped[str] = mapped_column(String(64))
    matter_name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    linked_by: Mapped[str] = mapped_column(String(100), default="")
    linked_at: Mapped[float] = mapped_column(Float)


class SlotRow(Base):
    """Appointment slot of one category on one day, with a capacity."""

    __tablename__ = "op_slots"
    __table_args__ = (UniqueConstraint("hall_id", "category", "start_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(4))
    day: Mapped[str] = mapped_column(String(10))
    start_at: Mapped[float] = mapped_column(Float)
    end_at: Mapped[float] = mapped_column(Float)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class AppointmentRow(Base):
    """预约: real name stored protected; `person_hash` (of the ID number, else the phone) enforces
    one booking per person per day."""

    __tablename__ = "op_appointments"
    __table_args__ = (
        Index("ix_op_appt_person", "hall_id", "day", "person_hash", "status"),
        Index("ix_op_appt_id", "hall_id", "day", "id_hash"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("op_slots.id"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(4))
    day: Mapped[str] = mapped_column(String(10))
    start_at: Mapped[float] = mapped_column(Float)
    end_at: Mapped[float] = mapped_column(Float)
    name_enc: Mapped[str] = mapped_column(Text)
    id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    id_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    person_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # booked|cancelled|checked_in|late|no_show
    created_at: Mapped[float] = mapped_column(Float)
    changed_at: Mapped[float] = mapped_column(Float)
    ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class AlertRow(Base):
    """A live-operations alert: raised, then cleared (cleared_at set)."""

    __tablename__ = "op_alerts"
    __table_args__ = (Index("ix_op_alerts_open", "hall_id", "cleared_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    limit: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[float] = mapped_column(Float)
    cleared_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class WebhookEndpoint(Base):
    """A receiver of signed event deliveries; `seq` is how far its deliveries were queued."""

    __tablename__ = "op_webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    types: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [] = ticket.* and ratings
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookDelivery(Base):
    """One event to one endpoint: delivered once, retried with back-off until then."""

    __tablename__ = "op_webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "seq"),
        Index("ix_op_wh_due", "status", "next_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("op_webhooks.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class WebhookAttempt(Base):
    """The delivery log: every attempt with its answer."""

    __tablename__ = "op_webhook_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("op_webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(String(300), default="")
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class PersonNotice(Base):
    """A notification sent to a person (N ahead, called): one per ticket and kind, so a restart
    or a second process never sends the same SMS twice."""

    __tablename__ = "op_person_notices"
    ticket_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(16))


class HallDayFigures(Base):
    """A hall's service level today as the background loop last computed it (revision
    0007_city), so that the city view of hundreds of halls reads one row per hall instead of
    every hall's day of events. `seq` is the hall's event seq it was computed at: the loop
    recomputes only halls whose seq moved (or whose day changed)."""

    __tablename__ = "op_hall_day_figures"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    within_minutes: Mapped[float] = mapped_column(Float)
    share: Mapped[float | None] = mapped_column(Float, nullable=True)
    called: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[float] = mapped_column(Float)


class ReplicationState(Base):
    """A hall replicated between its own site server and the city server (revision
    0008_replication). On the city (`role` "city") the row says the site is the hall's authority
    and how far its log has arrived (`acked_seq` of `site_seq` the site last reported); on the
    site (`role` "site") it is the shipping cursor: the last seq the city acknowledged and the
    last request from the city applied here."""

    __tablename__ = "op_replication"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    site_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_request: Mapped[int] = mapped_column(BigInteger, default=0)
    last_ok_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    changed_at: Mapped[float] = mapped_column(Float)


class ReplicationRequest(Base):
    """A change made at the city for a hall whose authority is its site (潮汐, case steps,
    settings): kept until the site has applied it in its own transaction and said so."""

    __tablename__ = "op_replication_requests"
    __table_args__ = (Index("ix_op_repl_req_hall", "hall_id", "status", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | applied | failed
    result_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    applied_at: Mapped[float | None] = mapped_column(Float, nullable=True)
