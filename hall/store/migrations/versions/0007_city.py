"""the city view: each hall's service level today, kept by the background loop; ratings by time

Revision ID: 0007_city
Revises: 0006_partial_indexes
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_city'
down_revision: str | None = '0006_partial_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('op_hall_day_figures',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('within_minutes', sa.Float(), nullable=False),
    sa.Column('share', sa.Float(), nullable=True),
    sa.Column('called', sa.Integer(), nullable=False),
    sa.Column('abandoned', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id')
    )
    op.create_index('ix_ratings_at', 'ratings', ['at'], unique=False)
    op.create_index('ix_tickets_window_finished', 'tickets', ['hall_id', 'window', 'finished_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_window_finished', table_name='tickets')
    op.drop_index('ix_ratings_at', table_name='ratings')
    op.drop_table('op_hall_day_figures')
