"""Server settings, read from the environment through `starlette.config.Config`.

Every setting has a default so that `hall serve` runs with nothing set: a SQLite file under
`HALL_DATA_DIR` (default `./data`) and the in-process event bus.

| variable | default | meaning |
|---|---|---|
| HALL_DATABASE_URL | sqlite:///{HALL_DATA_DIR}/hall.db | SQLAlchemy URL (PostgreSQL: postgresql+psycopg://…) |
| HALL_REDIS_URL | (empty) | Redis URL: event bus, rate limits shared by processes |
| HALL_REDIS_PREFIX | hall: | prefix of every Redis key and of the pub/sub channel (`{prefix}events`) |
| HALL_DATA_DIR | ./data | SQLite file, backups, generated secret key |
| HALL_SECRET_KEY | (generated into HALL_DATA_DIR/secret.key) | keys the ID/phone encryption and hashes |
| HALL_LAYOUT | (empty) | layout TOML imported at start (`hall serve` sets it from its argument) |
| HALL_ISSUE_RATE | 30 | tickets one device may issue per minute |
| HALL_TOKEN_HOURS | 12 | lifetime of a login token |
| HALL_WS_QUEUE | 256 | outgoing messages buffered per websocket client before it is dropped |
| HALL_WS_COALESCE_MS | 250 | public waiting counts from a run of issues within this window go out as one frame (0: each issue on its own) |
| HALL_RESUME_LIMIT | 1000 | events a reconnecting client may catch up; further back gets a snapshot |
| HALL_CLOSE_DAY_AT | 23:30 | hall-local time of the nightly job closing the day's leftovers ("" = off) |
| HALL_DB_POOL | (10 + 20 overflow) | PostgreSQL connections of one server process; `hall serve --workers N` sets it to fit max_connections |
| HALL_MAX_BODY | 65536 | bytes a request body may have (read incrementally; larger is refused with 413) |
| HALL_SQLITE_SYNCHRONOUS | FULL | SQLite `synchronous` pragma in WAL mode (FULL: a power cut loses no answered write) |
| HALL_CITY_URL | (empty) | a site server: the city server its halls replicate to (hall.operations.replication) |
| HALL_CITY_TOKEN | (empty) | a site server: the city's `site` device token for those halls |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config

__all__ = ["Settings", "load_settings"]


# FULL, not NORMAL: in WAL mode NORMAL can lose the last commits on a power cut, and a hall that
# printed A023 and then handed A023 out again after the reboot has failed two people. FULL still
# commits ~3,000 times a second on this machine's disk, far above a hall's rate.
DEFAULT_SQLITE_SYNCHRONOUS = "FULL"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    redis_url: str
    data_dir: Path
    secret_key: str
    layout: str
    issue_rate_per_minute: int = 30
    token_hours: float = 12.0
    ws_queue: int = 256
    ws_coalesce_ms: int = 250
    resume_limit: int = 1000
    close_day_at: str = "23:30"
    sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS
    redis_prefix: str = "hall:"
    db_pool: int | None = None
    city_url: str = ""
    city_token: str = ""
    max_body: int = 65536


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment).

    With no HALL_SECRET_KEY, a random key is created once in HALL_DATA_DIR/secret.key and reused:
    losing it makes the stored ID and phone numbers unreadable, so back it up with the database.
    """
    config = Config(environ=dict(os.environ if environ is None else environ))
    data_dir = Path(config("HALL_DATA_DIR", default="./data")).expanduser()
    database_url = config("HALL_DATABASE_URL", default="") or f"sqlite:///{(data_dir / 'hall.db').resolve()}"
    secret = config("HALL_SECRET_KEY", default="") or _stored_secret(data_dir)
    synchronous = config("HALL_SQLITE_SYNCHRONOUS", default=DEFAULT_SQLITE_SYNCHRONOUS).upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"HALL_SQLITE_SYNCHRONOUS: {synchronous!r} is not OFF, NORMAL, FULL or EXTRA")
    return Settings(
        database_url=database_url,
        redis_url=config("HALL_REDIS_URL", default=""),
        data_dir=data_dir,
        secret_key=secret,
        layout=config("HALL_LAYOUT", default=""),
        issue_rate_per_minute=config("HALL_ISSUE_RATE", cast=int, default=30),
        token_hours=config("HALL_TOKEN_HOURS", cast=float, default=12.0),
        ws_queue=config("HALL_WS_QUEUE", cast=int, default=256),
        ws_coalesce_ms=max(0, config("HALL_WS_COALESCE_MS", cast=int, default=250)),
        resume_limit=config("HALL_RESUME_LIMIT", cast=int, default=1000),
        close_day_at=config("HALL_CLOSE_DAY_AT", default="23:30"),
        sqlite_synchronous=synchronous,
        redis_prefix=config("HALL_REDIS_PREFIX", default="hall:"),
        db_pool=config("HALL_DB_POOL", cast=int, default=0) or None,
        city_url=config("HALL_CITY_URL", default=""),
        city_token=config("HALL_CITY_TOKEN", default=""),
        max_body=config("HALL_MAX_BODY", cast=int, default=65536),
    )


def _stored_secret(data_dir: Path) -> str:
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
