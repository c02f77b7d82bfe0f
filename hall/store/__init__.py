"""Persistence: the engine and its transactions, the tables, Alembic migrations, the ticket row mapping."""
