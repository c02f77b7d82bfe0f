"""Cost of issuing one ticket at 100, 10,000 and 100,000 waiting (and as many issued today),
through the server's own hall transaction (`run_write` + `issue_ticket`), on SQLite and
optionally PostgreSQL. Prints JSON.

The sizes run in interleaved blocks (100, 10k, 100k, 100, 10k, …), so load drift hits every
size alike; the figure is each size's median per-issue time and its ratio to the 100-waiting
median (issue 14's `issue_cost_ratio_100k_vs_100`).

    .venv/bin/python benchmarks/issue_cost.py [--postgres URL] [--no-fsync] [--blocks 6] [--per-block 40]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from hall.core.halls import import_layout  # noqa: E402
from hall.core.issuing import issue_ticket, parse_issue  # noqa: E402
from hall.core.registry import HallRegistry  # noqa: E402
from hall.core.tx import run_write  # noqa: E402
from hall.security.crypto import PersonalData  # noqa: E402
from hall.store import models  # noqa: E402
from hall.store.database import Database  # noqa: E402
from hall.store.migrate import upgrade  # noqa: E402
from queueing.layout import parse_layout  # noqa: E402
from queueing.numbering import hall_day  # noqa: E402

SIZES = (100, 10_000, 100_000)
NOW = 1_795_395_600.0  # Monday 2026-11-23 09:00 in Asia/Shanghai
LAYOUT = """
[hall]
code = "cost"
name = "成本测试大厅"
timezone = "Asia/Shanghai"

[[zones]]
code = "z"
name = "综合区"

[[categories]]
code = "A"
name = "综合业务"
zone = "z"
service_minutes = 10
daily_cap = 1000000

[[categories]]
code = "B"
name = "社保"
zone = "z"
service_minutes = 8

[[windows]]
number = 1
name = "1号窗口"
kind = "comprehensive"
serves = ["A", "B"]
"""


def _fill(db: Database, hall_id: int, n: int) -> None:
    """`n` waiting A tickets issued earlier today, with whatever the server keeps beside them."""
    day = hall_day(NOW, "Asia/Shanghai").isoformat()
    kept = hasattr(models, "WaitingCount")
    rows = []
    for i in range(n):
        at = NOW - n + i
        row: dict[str, Any] = {
            "hall_id": hall_id, "day": day, "number": f"A{i + 1:03d}", "category": "A", "priority": "normal",
            "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": at, "issued_at": at,
            "progress_token": secrets.token_hex(12), "extra": {"wait_started_at": at},
        }
        if kept:
            row["wait_origin"] = at
        rows.append(row)
    with db.write() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(models.TicketRow), rows[start:start + 5000])
        conn.execute(insert(models.NumberCounter).values(hall_id=hall_id, day=day, prefix="A", last=n))
        if kept:
            conn.execute(insert(models.WaitingCount).values(hall_id=hall_id, category="A", queue_class="normal", n=n))
    with db.write() as conn:
        conn.execute(text("ANALYZE"))  # what an import or the day start does (issue 14)


def _setup(url: str, n: int, durable: bool) -> tuple[Database, Any]:
    db = Database(url, synchronous="FULL" if durable else "OFF")
    upgrade(db)
    layout = parse_layout(tomllib.loads(LAYOUT))
    with db.write() as conn:
        try:
            hall_id = import_layout(conn, layout, now=NOW, matters=[])
        except TypeError:  # a tree whose import_layout still reads the wall clock itself
            hall_id = import_layout(conn, layout, matters=[])
    _fill(db, hall_id, n)
    return db, HallRegistry(db).get("cost")


def _issue(db: Database, hall: Any, crypto: PersonalData, at: float) -> None:
    req = parse_issue({"category": "A"})
    run_write(db, hall, None, lambda tx: issue_ticket(tx, req, crypto), now=at)


def run(urls: dict[int, str], blocks: int, per_block: int, durable: bool) -> dict[str, Any]:
    crypto = PersonalData("issue-cost-bench")
    halls = {n: _setup(url, n, durable) for n, url in urls.items()}
    times: dict[int, list[float]] = {n: [] for n in urls}
    clock = NOW
    for db, hall in halls.values():  # warm every statement cache once
        clock += 1
        _issue(db, hall, crypto, clock)
    for _ in range(blocks):
        for n, (db, hall) in halls.items():
            for _ in range(per_block):
                clock += 0.01
                t0 = time.perf_counter()
                _issue(db, hall, crypto, clock)
                times[n].append(time.perf_counter() - t0)
    for db, _ in halls.values():
        db.dispose()
    medians = {n: statistics.median(ts) * 1000 for n, ts in times.items()}
    base = medians[min(medians)]
    return {
        "median_ms": {str(n): round(m, 3) for n, m in medians.items()},
        "ratio_to_100": {str(n): round(m / base, 2) for n, m in medians.items()},
        "samples_per_size": blocks * per_block,
    }


def _pg_urls(base: str, durable: bool) -> tuple[dict[int, str], list[str]]:
    import psycopg

    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schemas = [f"cost_{uuid.uuid4().hex[:8]}" for _ in SIZES]
    with psycopg.connect(plain, autocommit=True) as c:
        for s in schemas:
            c.execute(f"CREATE SCHEMA {s}")
    sep = "&" if "?" in base else "?"
    sync = "" if durable else "%20-csynchronous_commit%3Doff"
    return {n: f"{base}{sep}options=-csearch_path%3D{s}{sync}" for n, s in zip(SIZES, schemas, strict=True)}, schemas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", help="also on PostgreSQL (each size in a schema of its own, dropped after)")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--per-block", type=int, default=40)
    ap.add_argument("--no-fsync", action="store_true",
                    help="SQLite synchronous=OFF, PostgreSQL synchronous_commit=off: the statements' cost without the "
                         "commit's flush, which otherwise hides it")
    args = ap.parse_args()
    durable = not args.no_fsync
    out: dict[str, Any] = {"load_average": os.getloadavg(), "durable_commits": durable}
    with tempfile.TemporaryDirectory() as tmp:
        urls = {n: f"sqlite:///{tmp}/cost{n}.db" for n in SIZES}
        out["sqlite"] = run(urls, args.blocks, args.per_block, durable)
    if args.postgres:
        import psycopg

        pg, schemas = _pg_urls(args.postgres, durable)
        try:
            out["postgres"] = run(pg, args.blocks, args.per_block, durable)
        finally:
            with psycopg.connect(args.postgres.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
                for s in schemas:
                    c.execute(f"DROP SCHEMA {s} CASCADE")
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
