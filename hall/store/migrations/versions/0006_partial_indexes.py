"""partial indexes: the waiting heads, and person / phone lookups, hold only the rows they find

Revision ID: 0006_partial_indexes
Revises: 0005_progress_token_hash
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_partial_indexes'
down_revision: str | None = '0005_progress_token_hash'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTIAL = (
    ('ix_tickets_waiting_head', ['hall_id', 'category', 'queue_class', 'queue_key', 'id'],
     "status = 'waiting' AND target_window IS NULL"),
    ('ix_tickets_waiting_target', ['hall_id', 'target_window', 'queue_key', 'id'],
     "status = 'waiting' AND target_window IS NOT NULL"),
    ('ix_tickets_person_hash', ['hall_id', 'person_hash'], 'person_hash IS NOT NULL'),
    ('ix_tickets_phone_hash', ['hall_id', 'phone_hash'], 'phone_hash IS NOT NULL'),
)


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_person')
        batch_op.drop_index('ix_tickets_phone')
        for name, columns, where in _PARTIAL:
            batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, _columns, _where in _PARTIAL:
            batch_op.drop_index(name)
        batch_op.create_index('ix_tickets_phone', ['hall_id', 'category', 'status', 'phone_hash'], unique=False)
        batch_op.create_index('ix_tickets_person', ['hall_id', 'category', 'status', 'person_hash'], unique=False)
