"""A durable SQLite outbox for what devices send to the server (ratings, keypad actions).

Each entry has a unique key, sent as the `Idempotency-Key`, so a retry after a lost answer is
done once by the server. An entry is deleted only when the server has answered it: 2xx is done,
4xx is final (moved to the `refused` log, never retried), 5xx or no answer leaves it in place to
be retried in order. Entries carry an expiry: a rating may arrive hours late, a "call next" must
not arrive after the person has left (the bridge drops it and tells the keypad).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["Outbox", "OutboxEntry"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS refused (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    status INTEGER,
    answer TEXT,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    key: str
    kind: str  # rating | keypad | heartbeat … (what to tell the device if it expires)
    path: str  # API path relative to the server, e.g. /api/halls/h1/tickets/7/rating
    body: dict[str, Any]
    created: float
    expires: float
    attempts: int


class Outbox:
    """Synchronous and quick (one small transaction per call), so the bridge calls it from its
    event loop directly. `path` ":memory:" is for tests only: it is not durable."""

    def __init__(self, path: str, clock: Any = time) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged press must survive the bridge PC losing power.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._clock = clock

    def close(self) -> None:
        self._db.close()

    def add(self, kind: str, path: str, body: dict[str, Any], ttl: float, key: str | None = None) -> str:
        """Store an entry; returns its idempotency key (a new UUID unless given)."""
        key = key or str(uuid.uuid4())
        now = self._clock.time()
        self._db.execute(
            "INSERT OR IGNORE INTO outbox (key, kind, path, body, created, expires) VALUES (?,?,?,?,?,?)",
            (key, kind, path, json.dumps(body, ensure_ascii=False), now, now + ttl),
        )
        return key

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Oldest first."""
        rows = self._db.execute(
            "SELECT seq, key, kind, path, body, created, expires, attempts FROM outbox ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def done(self, key: str) -> None:
        """The server accepted it (2xx)."""
        self._db.execute("DELETE FROM outbox WHERE key = ?", (key,))

    def refuse(self, entry: OutboxEntry, status: int | None, answer: str) -> None:
        """A final answer (4xx) or expiry: log it as refused and never send it again."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO refused (key, kind, path, body, status, answer, at) VALUES (?,?,?,?,?,?,?)",
                (entry.key, entry.kind, entry.path, json.dumps(entry.body, ensure_ascii=False), status, answer[:2000], self._clock.time()),
            )
            self._db.execute("DELETE FROM outbox WHERE key = ?", (entry.key,))

    def failed(self, key: str, error: str) -> None:
        """No final answer (5xx, lost connection): keep it for the next try."""
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE key = ?", (error[:500], key)
        )

    def expired(self, entry: OutboxEntry) -> bool:
        return self._clock.time() >= entry.expires

    def refused(self) -> list[tuple[str, str, int | None, str]]:
        """(key, kind, status, answer) of everything refused, oldest first."""
        rows = self._db.execute("SELECT key, kind, status, answer FROM refused ORDER BY at").fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]
