"""Alembic migrations of the server's schema (`0001_initial`); other parts add theirs on top."""
