"""live state kept, not rescanned: waiting counts, recent service times, device presence, and
each ticket's wait origin — backfilled from the tickets and the event log

Revision ID: 0003_live_state
Revises: 0002_operations
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0003_live_state'
down_revision: str | None = '0002_operations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = ('waiting', 'called', 'serving', 'suspended', 'no_show')


def upgrade() -> None:
    op.create_table('waiting_counts',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=4), nullable=False),
    sa.Column('queue_class', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'category', 'queue_class')
    )
    op.create_table('recent_service',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=4), nullable=False),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'category')
    )
    op.create_table('device_presence',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('window', sa.Integer(), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('last_seen', sa.Float(), nullable=False),
    sa.Column('changed_at', sa.Float(), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('via', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'code')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wait_origin', sa.Float(), nullable=True))
        batch_op.create_index('ix_tickets_wait', ['hall_id', 'status', 'category', 'wait_origin', 'id'], unique=False)
    bind = op.get_bind()
    _backfill_waiting(bind)
    _backfill_wait_origin(bind)
    _backfill_presence(bind)


def _backfill_waiting(bind: Any) -> None:
    bind.execute(sa.text(
        "INSERT INTO waiting_counts (hall_id, category, queue_class, n) "
        "SELECT hall_id, category, queue_class, count(*) FROM tickets WHERE status = 'waiting' "
        "GROUP BY hall_id, category, queue_class"
    ))


def _backfill_wait_origin(bind: Any) -> None:
    """Open tickets get the waits they completed (from their events, on queueing.metrics'
    definition) into `extra.waited_seconds` and their `wait_origin`; closed ones need neither."""
    from queueing import metrics

    tickets = sa.table('tickets', sa.column('id'), sa.column('status'), sa.column('issued_at'),
                       sa.column('extra', sa.JSON()), sa.column('wait_origin'))
    events = sa.table('events', sa.column('ticket_id'), sa.column('seq'), sa.column('type'), sa.column('at'),
                      sa.column('data', sa.JSON()))
    rows = bind.execute(sa.select(tickets.c.id, tickets.c.status, tickets.c.issued_at, tickets.c.extra)
                        .where(tickets.c.status.in_(_OPEN))).all()
    for row in rows:
        extra = dict(row.extra or {})
        start = float(extra.get('wait_started_at') or row.issued_at)
        trail = [(e.type, e.at, e.data or {}) for e in bind.execute(
            sa.select(events.c.type, events.c.at, events.c.data).where(events.c.ticket_id == row.id).order_by(events.c.seq)
        )]
        if row.status == 'waiting':
            waited = metrics.wait_seconds(trail, start) or 0.0
        else:
            waited = metrics.wait_seconds(trail) or 0.0
        extra['waited_seconds'] = waited
        bind.execute(sa.update(tickets).where(tickets.c.id == row.id).values(extra=extra, wait_origin=start - waited))


def _backfill_presence(bind: Any) -> None:
    """Registered devices that reported (devices.last_seen) and the devices bridges reported
    (`device.status` events), each with its latest reported state. The ids device pages made
    up for themselves (kiosk-…, screen-…, pad-… of no registered device) are left out: pages
    now report under their own device."""
    events = sa.table('events', sa.column('hall_id'), sa.column('seq'), sa.column('type'), sa.column('at'),
                      sa.column('device_id'), sa.column('data', sa.JSON()))
    devices = sa.table('devices', sa.column('id'), sa.column('hall_id'), sa.column('code'), sa.column('kind'),
                       sa.column('name'), sa.column('window'), sa.column('last_seen'))
    registered = {d.id: d for d in bind.execute(sa.select(devices))}
    codes = {d.code for d in registered.values()}
    state: dict[tuple[int, str], dict[str, Any]] = {}
    for d in registered.values():
        if d.last_seen is not None:
            state[(d.hall_id, d.code)] = {
                'hall_id': d.hall_id, 'code': d.code, 'kind': d.kind or '', 'name': d.name or '', 'window': d.window,
                'online': True, 'last_seen': d.last_seen, 'changed_at': d.last_seen, 'detail': None, 'via': d.code,
            }
    for e in bind.execute(sa.select(events.c.hall_id, events.c.at, events.c.device_id, events.c.data)
                          .where(events.c.type == 'device.status').order_by(events.c.seq)):
        data = e.data or {}
        code = str(data.get('id'))[:64]
        kind = str(data.get('kind') or '')[:16]
        sender = registered.get(e.device_id)
        if code not in codes and kind in ('kiosk', 'screen', 'pad'):
            continue
        old = state.get((e.hall_id, code)) or {}
        window = data.get('window')
        online = bool(data.get('online'))
        state[(e.hall_id, code)] = {
            'hall_id': e.hall_id, 'code': code, 'kind': kind or old.get('kind') or '',
            'name': old.get('name') or code, 'window': window if isinstance(window, int) else old.get('window'),
            'online': online, 'last_seen': max(e.at, old.get('last_seen') or 0.0),
            'changed_at': e.at if not old or old['online'] != online else old['changed_at'],
            'detail': None if data.get('detail') is None else str(data.get('detail'))[:200],
            'via': sender.code if sender is not None else old.get('via'),
        }
    if state:
        presence = sa.table('device_presence', *(sa.column(c) for c in (
            'hall_id', 'code', 'kind', 'name', 'window', 'online', 'last_seen', 'changed_at', 'detail', 'via')))
        bind.execute(sa.insert(presence), list(state.values()))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_wait')
        batch_op.drop_column('wait_origin')
    op.drop_table('device_presence')
    op.drop_table('recent_service')
    op.drop_table('waiting_counts')
