"""Operations: statistics of a big hall day, and the background case reader, on SQLite.

A city-hall day (default 5,000 tickets over 8 hours, each issued, called, started, finished; 30%
rated, 3% of those bad) is written straight into a fresh SQLite database the way the server
writes it; then we time (a) `day_rows` — every statistics row of the day, as the stats page and
the CSV/XLSX exports compute it — and the XLSX export of those rows, and (b) one `sync_cases`
pass (it reads at most 500 `ticket.rated` events) opening bad-rating cases. Prints JSON.
Goals: day statistics of 5,000 tickets in under 2 s; a case pass under 1 s.

    .venv/bin/python benchmarks/operations.py [--tickets 5000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from hall.core.halls import import_layout
from hall.core.registry import HallRegistry
from hall.operations.cases.store import sync_cases
from hall.operations.config import OpsConfig
from hall.operations.stats.exports import STAT_HEADERS, rows_to_xlsx
from hall.operations.stats.rules import COLUMNS
from hall.operations.stats.store import day_rows
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import EventRow, HallCounter, Rating, TicketRow
from queueing.layout import load_layout

ROOT = Path(__file__).resolve().parents[1]


def build(db: Database, tickets: int, seed: int) -> None:
    rng = random.Random(seed)
    layout = load_layout(ROOT / "examples" / "halls" / "county.toml")
    tz = ZoneInfo(layout.timezone)
    start = datetime(2026, 3, 3, 9, 0, tzinfo=tz).timestamp()
    cats = [c.code for c in layout.categories]
    windows = [w.number for w in layout.windows]
    with db.write() as conn:
        hall_id = import_layout(conn, layout, now=start)
    seq = 0
    ticket_rows, event_rows, rating_rows = [], [], []
    for i in range(1, tickets + 1):
        issued = start + rng.uniform(0, 8 * 3600)
        called = issued + rng.expovariate(1 / 600)
        started = called + rng.uniform(10, 60)
        finished = started + rng.expovariate(1 / 480)
        cat, win = rng.choice(cats), rng.choice(windows)
        ticket_rows.append({
            "id": i, "hall_id": hall_id, "day": "2026-03-03", "number": f"{cat}{i:04d}", "category": cat,
            "priority": "normal", "queue_class": "normal", "channel": "kiosk", "status": "finished",
            "queue_key": issued, "window": win, "issued_at": issued, "called_at": called, "finished_at": finished,
            "progress_token": f"t{i}", "extra": {},
        })
        for kind, at in (("ticket.issued", issued), ("ticket.called", called), ("ticket.started", started),
                         ("ticket.finished", finished)):
            seq += 1
            event_rows.append({"hall_id": hall_id, "seq": seq, "type": kind, "at": at, "ticket_id": i,
                               "window": None if kind == "ticket.issued" else win, "user_id": None,
                               "data": {"id": i, "category": cat}})
        if rng.random() < 0.3:
            level = 1 if rng.random() < 0.03 else rng.choice([3, 4, 5])
            seq += 1
            rating_rows.append({"hall_id": hall_id, "ticket_id": i, "level": level, "reasons": ["慢"] if level < 3 else [],
                                "reason_pending": False, "channel": "pad", "window": win, "staff_user_id": None,
                                "at": finished + 30})
            event_rows.append({"hall_id": hall_id, "seq": seq, "type": "ticket.rated", "at": finished + 30,
                               "ticket_id": i, "window": win, "user_id": None, "data": {"id": i, "level": level}})
    with db.write() as conn:
        conn.execute(insert(TicketRow), ticket_rows)
        conn.execute(insert(EventRow), event_rows)
        conn.execute(insert(Rating), rating_rows)
        conn.execute(update(HallCounter).where(HallCounter.hall_id == hall_id).values(seq=seq))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db)
        build(db, args.tickets, args.seed)
        hall = HallRegistry(db).get("county")
        cfg = OpsConfig.build(hall.layout, hall.settings)
        t0 = time.perf_counter()
        with db.read() as conn:
            rows = day_rows(conn, hall, "2026-03-03", cfg.service_level_seconds)
        t1 = time.perf_counter()
        xlsx = rows_to_xlsx(rows, COLUMNS, STAT_HEADERS, "2026-03-03")
        t2 = time.perf_counter()
        with db.write() as conn:
            opened = sync_cases(conn, hall.id, cfg, time.time())
        t3 = time.perf_counter()
        db.dispose()
    day = next(r for r in rows if r["dimension"] == "day")
    print(json.dumps({
        "benchmark": "operations",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "tickets": args.tickets,
        "stat_rows": len(rows),
        "day_rows_seconds": round(t1 - t0, 3),
        "xlsx_seconds": round(t2 - t1, 3),
        "xlsx_bytes": len(xlsx),
        "cases_opened": len(opened),
        "case_pass_seconds": round(t3 - t2, 3),
        "wait_mean_seconds": round(day["wait_mean"], 1),
        "goals": {"day_rows_seconds": 2.0, "case_pass_seconds": 1.0},
        "met": (t1 - t0) < 2.0 and (t3 - t2) < 1.0,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
