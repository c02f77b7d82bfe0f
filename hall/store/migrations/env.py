"""Alembic environment: runs on the connection hall.store.migrate hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

# Every table is on one metadata: the operations tables register when their module is imported.
import hall.store.operation_models  # noqa: F401, E402
from hall.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two server processes starting together must not both run the same migration (keyed
        # by schema, so databases of other schemas, e.g. parallel test runs, do not wait).
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema()))"))
    context.run_migrations()
