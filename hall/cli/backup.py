"""`hall backup`: a consistent copy of a SQLite database through SQLite's online backup API,
safe while the server runs. For PostgreSQL use `pg_dump --format=custom` (see the README)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from hall.settings import Settings
from hall.store.database import private_file

__all__ = ["backup", "BackupError"]


class BackupError(RuntimeError):
    pass


def backup(settings: Settings, target: str | None = None) -> Path:
    """Copy the database to `target` (default HALL_DATA_DIR/backup-YYYYmmdd-HHMMSS.db)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "hall backup copies SQLite databases; for PostgreSQL run "
            "pg_dump --format=custom --file=hall.dump DBNAME (restore with pg_restore)"
        )
    source = Path(url.database or "")
    if not source.exists():
        raise BackupError(f"no database at {source}")
    dest = Path(target) if target else settings.data_dir / time.strftime("backup-%Y%m%d-%H%M%S.db")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        raise BackupError(f"{dest} exists; choose another file")
    private_file(dest)  # a copy of the database: as private as the original
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(dest))
    try:
        src.backup(dst, pages=1024, sleep=0.005)
    finally:
        dst.close()
        src.close()
    return dest
