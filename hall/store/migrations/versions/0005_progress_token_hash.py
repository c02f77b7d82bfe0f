"""progress tokens kept as their SHA-256 only, like every other token; the progress link taken
out of the stored `ticket.issued` events

Existing tokens keep working: each stored token is replaced by its hash, which is what the
server now looks up (a person's printed QR code still opens their page). Downgrading cannot
bring the clear tokens back: after it, progress links issued before are dead.

Revision ID: 0005_progress_token_hash
Revises: 0003_live_state
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_progress_token_hash'
down_revision: str | None = '0003_live_state'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HASHED = re.compile(r'^[0-9a-f]{64}$')  # token_urlsafe(24) is 32 characters of base64url: never this
_BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    tickets = sa.table('tickets', sa.column('id', sa.BigInteger), sa.column('progress_token', sa.String))
    events = sa.table('events', sa.column('id', sa.BigInteger), sa.column('type', sa.String), sa.column('data', sa.JSON))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(tickets.c.id, tickets.c.progress_token).where(tickets.c.id > last).order_by(tickets.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        for tid, token in rows:
            if token and not _HASHED.match(token):
                digest = hashlib.sha256(token.encode('utf-8')).hexdigest()
                conn.execute(sa.update(tickets).where(tickets.c.id == tid).values(progress_token=digest))
        last = rows[-1][0]
    last = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.data)
            .where(events.c.type == 'ticket.issued', events.c.id > last).order_by(events.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        for eid, data in rows:
            if isinstance(data, dict) and 'progress_url' in data:
                kept = {k: v for k, v in data.items() if k != 'progress_url'}
                conn.execute(sa.update(events).where(events.c.id == eid).values(data=kept))
        last = rows[-1][0]


def downgrade() -> None:
    # A hash cannot be turned back into its token; the columns are unchanged, so nothing to undo.
    pass
