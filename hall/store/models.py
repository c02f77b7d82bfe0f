"""The server's tables: SQLAlchemy 2.x declarative models on one `Base`.

Other parts of `hall` add their own tables by subclassing this `Base`:

    from hall.store.models import Base

and ship them in an Alembic revision on top of `0001_initial` (hall/migrations/versions/).
Instants are stored as float seconds since the Unix epoch (UTC), like everywhere in the engine;
a hall day is the hall-local date as text (`2026-11-21`).
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
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "table",
    "Hall",
    "HallCounter",
    "NumberCounter",
    "Zone",
    "CategoryRow",
    "Matter",
    "WindowRow",
    "User",
    "UserHall",
    "Device",
    "AuthToken",
    "TicketRow",
    "EventRow",
    "Rating",
    "IdempotencyRecord",
    "AuditEntry",
    "WaitingCount",
    "RecentService",
    "DevicePresence",
]

# BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY is SQLite's rowid alias).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def table(model: type[Base]) -> Table:
    """A model's Core table (for statements built once and run many times)."""
    t = model.__table__
    assert isinstance(t, Table)
    return t


class Hall(Base):
    """One service hall; `layout` is the layout file's content (re-parsed by queueing.layout)."""

    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    layout: Mapped[dict[str, Any]] = mapped_column(JSON)
    # public_snapshot: screens may read the snapshot and public stream without a token.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class HallCounter(Base):
    """The hall's event sequence; every write transaction locks this row first."""

    __tablename__ = "hall_counters"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class NumberCounter(Base):
    """Last ticket number given per hall, hall-local day and printed prefix (A, YA, VA …)."""

    __tablename__ = "number_counters"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class CategoryRow(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[str] = mapped_column(String(64))
    service_minutes: Mapped[float] = mapped_column(Float)


class Matter(Base):
    """A government matter (事项) of a hall's catalogue, searchable by name and pinyin initials."""

    __tablename__ = "matters"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(4))
    department: Mapped[str] = mapped_column(String(100), default="")
    initials: Mapped[str] = mapped_column(String(100), default="")  # 营业执照 → yyzz
    pinyin: Mapped[str] = mapped_column(String(400), default="")


class WindowRow(Base):
    """A window's live state; `policy_state` is queueing.policy.WindowState.to_dict()."""

    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False once dropped from the layout
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    staff_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    current_ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    last_finished_ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    policy_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # admin | manager | staff | planner
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class UserHall(Base):
    """Halls a non-admin user may act in (admins act everywhere)."""

    __tablename__ = "user_halls"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)


class Device(Base):
    """A kiosk, screen, pad or bridge of one hall (a pad or keypad may belong to a window)."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # kiosk | screen | pad | bridge
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuthToken(Base):
    """A bearer token, stored as its SHA-256 only: a login token (user) or a device token."""

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)


_WAITING_UNTARGETED = text("status = 'waiting' AND target_window IS NULL")
_WAITING_TARGETED = text("status = 'waiting' AND target_window IS NOT NULL")
_HAS_PERSON = text("person_hash IS NOT NULL")
_HAS_PHONE = text("phone_hash IS NOT NULL")


class TicketRow(Base):
    """One visit. The columns the queries use are real columns; `extra` holds the rest of the
    engine's `Ticket` (see hall.store.ticketmap), so the engine can grow without a migration."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("hall_id", "day", "number"),
        # The head query of docs/CONTRACTS.md: ORDER BY queue_key, id LIMIT 1 per (category, class)
        # with target_window IS NULL. target_window comes last: PostgreSQL does not treat IS NULL
        # as an equality for ordering, so before queue_key it made PostgreSQL sort every waiting
        # ticket of the queue on each call.
        Index("ix_tickets_head", "hall_id", "status", "category", "queue_class", "queue_key", "id", "target_window"),
        Index("ix_tickets_target", "hall_id", "status", "target_window", "queue_key", "id"),
        # Partial indexes (migration 0006): the waiting heads hold only waiting tickets, so a
        # call costs the same at 100 and 100,000 waiting whatever statistics PostgreSQL has yet
        # (before ANALYZE it sorted every waiting ticket via the phone index: 101–144 ms against
        # 0.07 ms); person and phone lookups hold only the tickets that carry one.
        Index("ix_tickets_waiting_head", "hall_id", "category", "queue_class", "queue_key", "id",
              sqlite_where=_WAITING_UNTARGETED, postgresql_where=_WAITING_UNTARGETED),
        Index("ix_tickets_waiting_target", "hall_id", "target_window", "queue_key", "id",
              sqlite_where=_WAITING_TARGETED, postgresql_where=_WAITING_TARGETED),
        Index("ix_tickets_person_hash", "hall_id", "person_hash",
              sqlite_where=_HAS_PERSON, postgresql_where=_HAS_PERSON),
        Index("ix_tickets_phone_hash", "hall_id", "phone_hash",
              sqlite_where=_HAS_PHONE, postgresql_where=_HAS_PHONE),
        # The longest wait per category (hall.core.queries.longest_waits): the smallest
        # wait_origin of the waiting tickets, one index seek per category.
        Index("ix_tickets_wait", "hall_id", "status", "category", "wait_origin", "id"),
        # 一窗口一码: the visits a window finished inside the rating period.
        Index("ix_tickets_window_finished", "hall_id", "window", "finished_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(4))
    priority: Mapped[str] = mapped_column(String(16))
    queue_class: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[float] = mapped_column(Float)
    target_window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[float] = mapped_column(Float)
    called_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    progress_token: Mapped[str] = mapped_column(String(64), unique=True)
    person_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queueing.tickets.Ticket.wait_origin: while the ticket waits, its wait so far (earlier
    # periods included, queueing.metrics' definition) is now - wait_origin.
    wait_origin: Mapped[float | None] = mapped_column(Float, nullable=True)


class EventRow(Base):
    """The append-only event log: `data` is the staff-audience payload; the public one is derived
    from it by hall.core.events.public_data, so both are one truth."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("hall_id", "seq"),
        Index("ix_events_type", "hall_id", "type", "seq"),
        Index("ix_events_ticket", "ticket_id"),
        Index("ix_events_at", "hall_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Float)
    ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class Rating(Base):
    """好差评: one per ticket; `reason_pending` when a five-key pad gave a bad level without reasons."""

    __tablename__ = "ratings"
    # Today's ratings of every hall (the city view) without reading every day's.
    __table_args__ = (Index("ix_ratings_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(BigId, unique=True)
    level: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staff_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[float] = mapped_column(Float)


class IdempotencyRecord(Base):
    """The answer given to a write with an idempotency key, replayed for the same key."""

    __tablename__ = "idempotency"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request: Mapped[str] = mapped_column(String(300))  # "POST /api/…": a key reused elsewhere is refused
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class AuditEntry(Base):
    """Who did what: every staff, device and admin action (also the CLI's)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_hall_at", "hall_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    hall_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)



class WaitingCount(Base):
    """How many tickets of a hall wait per (category, queue class), kept by every transition
    into or out of `waiting` in the same hall transaction (hall.core.tickets), so that people
    ahead at issue and the hall's waiting figures never count waiting tickets under the lock.
    A missing row is zero."""

    __tablename__ = "waiting_counts"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(4), primary_key=True)
    queue_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RecentService(Base):
    """The last few service times of a category (`samples`: [[finished_at, minutes], …], oldest
    first), appended when a ticket finishes: what the wait estimate reads instead of the day's
    events (hall.core.queries.recent_service_minutes)."""

    __tablename__ = "recent_service"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(4), primary_key=True)
    samples: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DevicePresence(Base):
    """Each device's presence as last reported, kept by heartbeats and the silence watch in the
    hall transaction (hall.core.presence); the `device.status` events are its log. `code` is a
    registered device's code or the id a bridge gives a device behind it (an LED strip, a
    printer). Whether it counts as online *now* also depends on `last_seen` and the hall's
    `device_offline_seconds` (hall.core.queries.device_presence)."""

    __tablename__ = "device_presence"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen: Mapped[float] = mapped_column(Float)
    changed_at: Mapped[float] = mapped_column(Float)  # when `online` last changed
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Who reports it: the bridge it hangs behind, or the device itself. A bridge reports every
    # device it drives in each heartbeat, so one it stops reporting is forgotten.
    via: Mapped[str | None] = mapped_column(String(64), nullable=True)


class WindowOverride(Base):
    """A 潮汐 change to one window, kept apart from the imported layout (`halls.layout`) so that
    `hall halls import` does not erase it: the categories it serves now, and the name and kind of
    a spare window the layout lacks. The hall's layout is the imported one with these applied
    (hall.core.halls.effective_layout); `seq` is the `window.retargeted` event that set it."""

    __tablename__ = "window_overrides"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    serves: Mapped[list[Any]] = mapped_column(JSON, default=list)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    set_at: Mapped[float] = mapped_column(Float)
    seq: Mapped[int] = mapped_column(Integer)


class TicketEstimate(Base):
    """The wait estimate a ticket was given at issue, kept for the scoring of estimates
    (hall.operations.accuracy): which source gave it (`forecast`: the latest live forecast's
    slot; `analytic`: the one analytic estimate, when the forecast was stale or missing) and,
    for a forecast, when that forecast was made. p50/p90 are None when no window served it."""

    __tablename__ = "ticket_estimates"
    __table_args__ = (Index("ix_ticket_estimates_day", "hall_id", "day"),)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(4))
    issued_at: Mapped[float] = mapped_column(Float)
    p50_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    p90_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    forecast_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ForecastSlotRow(Base):
    """One zone's quarter hour in one forecast, as it was made: what the scoring of forecasts
    compares with what happened (waiting people at the slot's start, the band and median)."""

    __tablename__ = "forecast_slots"
    __table_args__ = (Index("ix_forecast_slots_day", "hall_id", "day"),)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[float] = mapped_column(Float, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_at: Mapped[float] = mapped_column(Float, primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    waiting_p10: Mapped[float | None] = mapped_column(Float, nullable=True)
    waiting_p50: Mapped[float | None] = mapped_column(Float, nullable=True)
    waiting_p90: Mapped[float | None] = mapped_column(Float, nullable=True)
