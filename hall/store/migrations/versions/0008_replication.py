"""replication between a site server and the city server: per-hall state and the requests that
travel down

Revision ID: 0008_replication
Revises: 0007_city
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_replication'
down_revision: str | None = '0007_city'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('op_replication',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('acked_seq', sa.BigInteger(), nullable=False),
    sa.Column('site_seq', sa.BigInteger(), nullable=False),
    sa.Column('applied_request', sa.BigInteger(), nullable=False),
    sa.Column('last_ok_at', sa.Float(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('changed_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id')
    )
    op.create_table('op_replication_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result_status', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('applied_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_op_repl_req_hall', 'op_replication_requests', ['hall_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_op_repl_req_hall', table_name='op_replication_requests')
    op.drop_table('op_replication_requests')
    op.drop_table('op_replication')
