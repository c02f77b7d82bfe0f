"""`hall demo` (what `make run` calls): serve a layout on a SQLite file with demo accounts and
device tokens made on first start, and print the address of every page and the demo logins.

Device tokens are stored only as hashes, so the demo keeps its own tokens in
HALL_DATA_DIR/demo-tokens.json to print them again on later starts (demo only: a real hall
hands each token to its device once).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from displays.messages import say
from hall.core.halls import import_layout
from hall.http.wsfanout import PROTOCOL as FANOUT_PROTOCOL
from hall.security.accounts import add_device, add_user
from hall.settings import load_settings
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import User
from queueing.clock import SystemClock
from queueing.layout import HallLayout, load_layout

__all__ = ["run_demo", "prepare_demo", "DEMO_USERS"]

# username, password, role, name
DEMO_USERS = (
    ("admin", "admin-demo-1", "admin", "系统管理员"),
    ("manager", "manager-demo-1", "manager", "王主任"),
    ("clerk1", "clerk-demo-1", "staff", "张敏"),
    ("clerk2", "clerk-demo-1", "staff", "李强"),
    ("clerk3", "clerk-demo-1", "staff", "陈静"),
    ("planner", "planner-demo-1", "planner", "规划科"),
)


def prepare_demo(db: Database, layout: HallLayout, token_file: Path) -> dict[str, Any]:
    """Import the layout; on first start create the demo users and devices. Returns the tokens."""
    with db.write() as conn:
        import_layout(conn, layout, now=SystemClock().now())
        first = conn.execute(select(func.count()).select_from(User)).scalar_one() == 0
        if first or not token_file.exists():
            for username, password, role, name in DEMO_USERS:
                halls = [] if role == "admin" else [layout.code]
                add_user(conn, username, password, role=role, name=name, halls=halls, actor="demo", update_existing=True)
            tokens: dict[str, Any] = {"hall": layout.code, "pads": {}}
            for kind in ("kiosk", "screen", "bridge"):
                tokens[kind] = add_device(conn, kind, layout.code, name=f"演示{kind}", actor="demo")[1]
            for w in layout.windows:
                tokens["pads"][str(w.number)] = add_device(conn, "pad", layout.code, window=w.number, actor="demo")[1]
            token_file.parent.mkdir(parents=True, exist_ok=True)
            token_file.write_text(json.dumps(tokens, indent=1), encoding="utf-8")
            os.chmod(token_file, 0o600)
    return json.loads(token_file.read_text(encoding="utf-8"))


def page_urls(base: str, layout: HallLayout, tokens: dict[str, Any]) -> list[str]:
    h = layout.code
    lines = [
        f"  取号机：      {base}/kiosk/{h}?token={tokens['kiosk']}",
        f"  综合屏：      {base}/screen/{h}",
        f"  窗口叫号台：  {base}/staff",
        f"  实时监控：    {base}/manage/{h}",
        f"  运营管理：    {base}/ops/{h}/stats",
    ]
    for w in layout.windows:
        lines.append(f"  窗口屏 {w.number:>2} {w.name}: {base}/screen/{h}/windows/{w.number}")
    for w in layout.windows:
        lines.append(f"  评价器 {w.number:>2}: {base}/pad/{h}/windows/{w.number}?token={tokens['pads'][str(w.number)]}")
    lines.append(f"  串口桥接令牌：{tokens['bridge']}   显示屏令牌：{tokens['screen']}")
    lines.append(f"  接口说明：{base}/openapi.json   监控指标：{base}/metrics")
    return lines


def run_demo(layout_path: str, host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    layout = load_layout(layout_path)
    db = Database(settings.database_url, synchronous=settings.sqlite_synchronous)
    upgrade(db)
    tokens = prepare_demo(db, layout, settings.data_dir / "demo-tokens.json")
    db.dispose()
    base = f"http://{host}:{port}"
    print(f"\n{layout.name} — {base}  （数据库 {settings.database_url}）\n")
    print("\n".join(page_urls(base, layout, tokens)))
    print("\n  演示账号（用户名 / 密码）：")
    for username, password, role, name in DEMO_USERS:
        print(f"    {username:<8} / {password:<16} {say(f'cli.role.{role}', fallback=role)}  {name}")
    print()
    os.environ["HALL_LAYOUT"] = layout_path
    uvicorn.run("hall.app:create_app", factory=True, host=host, port=port, ws=FANOUT_PROTOCOL,
                ws_per_message_deflate=False, log_level="info")
    return 0
