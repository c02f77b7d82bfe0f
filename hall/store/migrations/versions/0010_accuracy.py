"""accuracy: the estimate each ticket was given at issue (and its source), and each forecast's
quarter hours as made, so that both can be scored against what happened (issue 16)

Revision ID: 0010_accuracy
Revises: 0009_window_overrides
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_accuracy'
down_revision: str | None = '0009_window_overrides'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ticket_estimates',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=4), nullable=False),
    sa.Column('issued_at', sa.Float(), nullable=False),
    sa.Column('p50_minutes', sa.Float(), nullable=True),
    sa.Column('p90_minutes', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('forecast_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_index('ix_ticket_estimates_day', 'ticket_estimates', ['hall_id', 'day'], unique=False)
    op.create_table('forecast_slots',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.Float(), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('slot_at', sa.Float(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('waiting_p10', sa.Float(), nullable=True),
    sa.Column('waiting_p50', sa.Float(), nullable=True),
    sa.Column('waiting_p90', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'computed_at', 'zone', 'slot_at')
    )
    op.create_index('ix_forecast_slots_day', 'forecast_slots', ['hall_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_forecast_slots_day', table_name='forecast_slots')
    op.drop_table('forecast_slots')
    op.drop_index('ix_ticket_estimates_day', table_name='ticket_estimates')
    op.drop_table('ticket_estimates')
