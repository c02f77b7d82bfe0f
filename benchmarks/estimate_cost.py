"""What giving each ticket its estimate from the live forecast costs at issue (issue 16): one
ticket issued through the server's hall transaction (`run_write` + `issue_ticket`) with no
forecast (the analytic estimate) against one with a fresh forecast to look up (the forecast's
quarter hours for six zones, three hours ahead), on SQLite. Both store the estimate given
(`ticket_estimates`). Prints JSON: each mode's median per-issue time, their ratio, the load.

The modes run in interleaved blocks, so load drift hits both alike.

    .venv/bin/python benchmarks/estimate_cost.py [--blocks 6] [--per-block 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tomllib
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import update  # noqa: E402

from hall.core.estimate import ForecastTable  # noqa: E402
from hall.core.halls import import_layout  # noqa: E402
from hall.core.issuing import issue_ticket, parse_issue  # noqa: E402
from hall.core.registry import HallInfo, HallRegistry  # noqa: E402
from hall.core.tx import run_write  # noqa: E402
from hall.security import accounts  # noqa: E402
from hall.security.crypto import PersonalData  # noqa: E402
from hall.store.database import Database  # noqa: E402
from hall.store.migrate import upgrade  # noqa: E402
from hall.store.models import WindowRow  # noqa: E402
from queueing.layout import parse_layout  # noqa: E402

NOW = 1_795_395_600.0  # Monday 2026-11-23 09:00 in Asia/Shanghai
ZONES = "ABCDEF"
LAYOUT = '[hall]\ncode = "est"\nname = "预估成本测试大厅"\ntimezone = "Asia/Shanghai"\n' + "".join(
    f'[[zones]]\ncode = "z{c}"\nname = "{c}区"\n[[categories]]\ncode = "{c}"\nname = "{c}类"\n'
    f'zone = "z{c}"\nservice_minutes = 6\ndaily_cap = 1000000\n'
    f'[[windows]]\nnumber = {i + 1}\nkind = "zone"\nserves = ["{c}"]\n' for i, c in enumerate(ZONES))


class Fixed:
    """A ForecastSource holding one fresh forecast (what FreshForecasts answers)."""

    def __init__(self, table: ForecastTable) -> None:
        self._table = table

    def table(self, hall: HallInfo, now: float) -> ForecastTable | None:
        return self._table


def _forecast() -> ForecastTable:
    body = {"zones": [{"zone": f"z{c}", "slots": [
        {"at": NOW + 900 * k, "waiting": {"p10": 20.0, "p50": 30.0, "p90": 40.0},
         "person_p50_minutes": 30.0, "person_p90_minutes": 45.0} for k in range(12)]}
        for c in ZONES]}
    return ForecastTable.of(NOW, body)


def _issue(tx: Any, req: Any, crypto: PersonalData, forecasts: Any) -> tuple[int, dict[str, Any]]:
    return issue_ticket(tx, req, crypto, forecasts=forecasts)


def run(blocks: int, per_block: int) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="estimate-cost-")
    db = Database(f"sqlite:///{tmp}/est.db", synchronous="OFF")
    upgrade(db)
    with db.write() as conn:
        import_layout(conn, parse_layout(tomllib.loads(LAYOUT)), now=NOW, matters=[])
        uid = accounts.add_user(conn, "clerk", "estimate-cost-pass", role="admin", name="窗口")
        conn.execute(update(WindowRow).values(staff_user_id=uid))  # every window open
    hall = HallRegistry(db).get("est")
    crypto = PersonalData("estimate-cost-bench")
    modes: dict[str, Any] = {"analytic": None, "forecast": Fixed(_forecast())}
    times: dict[str, list[float]] = {m: [] for m in modes}
    sources: dict[str, set[str]] = {m: set() for m in modes}
    at = NOW
    k = 0
    for _ in range(blocks):
        for mode, forecasts in modes.items():
            for _ in range(per_block):
                req = parse_issue({"category": ZONES[k % len(ZONES)]})
                k += 1
                at += 1.0
                t = time.perf_counter()
                result = run_write(db, hall, None, partial(_issue, req=req, crypto=crypto, forecasts=forecasts),
                                   now=at)
                times[mode].append(time.perf_counter() - t)
                sources[mode].add(result.body["estimate"]["source"])
    med = {m: statistics.median(v) for m, v in times.items()}
    db.dispose()
    return {
        "issue_ms_median": {m: round(v * 1000, 3) for m, v in med.items()},
        "forecast_vs_analytic": round(med["forecast"] / med["analytic"], 3),
        "sources": {m: sorted(v) for m, v in sources.items()},
        "issued": k, "load_average": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--per-block", type=int, default=40)
    args = ap.parse_args()
    print(json.dumps(run(args.blocks, args.per_block), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
