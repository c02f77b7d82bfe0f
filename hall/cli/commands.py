"""Subcommands of `hall` owned by this package (see hall/cli.py): serve, demo, db, users,
devices, halls, export, backup, close-day. Settings come from the environment (hall.settings)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from displays.messages import say
from hall.http.wsfanout import PROTOCOL as FANOUT_PROTOCOL
from hall.store.database import MIN_POOL, PoolTooSmall, connection_limit, pool_per_process
from queueing.clock import SystemClock

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the `hall` parser."""
    p = sub.add_parser("serve", help="run the hall server (uvicorn)")
    p.add_argument("layout", nargs="?", help="layout TOML to import at start (else HALL_LAYOUT)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL + Redis for more than 1)")
    p.set_defaults(func=_serve)

    p = sub.add_parser("demo", help="serve examples/halls/county.toml with demo accounts (make run)")
    p.add_argument("--layout", default="examples/halls/county.toml")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_demo)

    p = sub.add_parser("db", help="database schema")
    dbs = p.add_subparsers(dest="db_command", required=True)
    up = dbs.add_parser("upgrade", help="apply the Alembic migrations (also done at every start)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)

    p = sub.add_parser("users", help="user accounts")
    us = p.add_subparsers(dest="users_command", required=True)
    add = us.add_parser("add", help="add a user; the password is read from stdin")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "city", "manager", "staff", "planner"])
    add.add_argument("--name", help="name shown on screens (default: the username)")
    add.add_argument("--hall", action="append", default=[], help="a hall this user acts in (repeat)")
    add.add_argument("--update", action="store_true", help="reset an existing user")
    add.set_defaults(func=_users_add)

    p = sub.add_parser("devices", help="device tokens")
    ds = p.add_subparsers(dest="devices_command", required=True)
    add = ds.add_parser("add", help="add a device and print its token")
    add.add_argument("kind", choices=["kiosk", "screen", "pad", "bridge", "site"])
    add.add_argument("--hall", required=True)
    add.add_argument("--window", type=int)
    add.add_argument("--name", default="")
    add.set_defaults(func=_devices_add)

    p = sub.add_parser("halls", help="halls served")
    hs = p.add_subparsers(dest="halls_command", required=True)
    imp = hs.add_parser("import", help="add or update a hall from a layout TOML")
    imp.add_argument("layout")
    imp.set_defaults(func=_halls_import)

    p = sub.add_parser("export", help="export data")
    es = p.add_subparsers(dest="export_command", required=True)
    ev = es.add_parser("events", help="the event log as JSON lines (docs/CONTRACTS.md)")
    ev.add_argument("--hall", required=True)
    ev.add_argument("--since", help="first hall-local day (YYYY-MM-DD), inclusive")
    ev.add_argument("--until", help="last hall-local day (YYYY-MM-DD), inclusive")
    ev.add_argument("--output", "-o", default="-", help="file (default: stdout)")
    ev.set_defaults(func=_export_events)

    p = sub.add_parser("backup", help="consistent copy of the database")
    p.add_argument("target", nargs="?", help="file to write (default: HALL_DATA_DIR/backup-TIMESTAMP.db)")
    p.set_defaults(func=_backup)

    p = sub.add_parser("close-day", help="close the open tickets of earlier days (today's too with --today)")
    p.add_argument("--hall", action="append", default=[], help="only these halls (repeat); default all")
    p.add_argument("--today", action="store_true", help="also close today's open tickets")
    p.add_argument("--reason", default="day_closed")
    p.set_defaults(func=_close_day)


def _settings() -> Any:
    from hall.settings import load_settings

    return load_settings()


def _db() -> Any:
    from hall.store.database import Database
    from hall.store.migrate import upgrade

    s = _settings()
    if s.database_url.startswith("sqlite"):
        s.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(s.database_url, synchronous=s.sqlite_synchronous)
    upgrade(db)
    return db


def _fail(message: str) -> int:
    print(f"hall: {message}", file=sys.stderr)
    return 2


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from queueing.layout import load_layout

    # A bad path or layout is said in one line by `hall` before the server starts, instead of a
    # traceback from inside uvicorn's startup; the environment is set only once all is checked.
    layout = args.layout or os.environ.get("HALL_LAYOUT", "")
    if layout:
        load_layout(layout)
    try:
        pool = _pool_for(_settings().database_url, args.workers)
    except PoolTooSmall as e:
        return _fail(say("serve_pool_too_small", max=e.max_connections, reserved=e.reserved, workers=e.workers,
                         each=e.each, need=MIN_POOL))
    if args.layout:
        os.environ["HALL_LAYOUT"] = args.layout  # the worker processes import it at start
    if pool is not None:
        os.environ["HALL_DB_POOL"] = str(pool)  # the worker processes read it in hall.settings
    uvicorn.run(
        "hall.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
        ws=FANOUT_PROTOCOL, ws_per_message_deflate=False, log_level="info",
    )
    return 0


def _pool_for(database_url: str, workers: int) -> int | None:
    """Each worker's PostgreSQL pool, sized to the database's max_connections (None: SQLite)."""
    if not database_url.startswith("postgresql"):
        return None
    return pool_per_process(*connection_limit(database_url), workers)


def _demo(args: argparse.Namespace) -> int:
    from hall.cli.demo import run_demo

    return run_demo(args.layout, args.host, args.port)


def _db_upgrade(args: argparse.Namespace) -> int:
    from hall.store.database import Database
    from hall.store.migrate import upgrade

    s = _settings()
    if s.database_url.startswith("sqlite"):
        s.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(Database(s.database_url), args.revision)
    print(say("cli.db_upgraded", revision=args.revision))
    return 0


def _users_add(args: argparse.Namespace) -> int:
    from hall.security.accounts import AccountError, add_user

    password = sys.stdin.readline().rstrip("\n")
    db = _db()
    try:
        with db.write() as conn:
            uid = add_user(
                conn, args.username, password, role=args.role, name=args.name, halls=args.hall, update_existing=args.update
            )
    except AccountError as e:
        return _fail(str(e))
    print(say("cli.user_added", username=args.username, role=say(f"cli.role.{args.role}"), id=uid))
    return 0


def _devices_add(args: argparse.Namespace) -> int:
    from hall.security.accounts import AccountError, add_device

    db = _db()
    try:
        with db.write() as conn:
            _, token = add_device(conn, args.kind, args.hall, window=args.window, name=args.name)
    except AccountError as e:
        return _fail(str(e))
    print(token)
    return 0


def _halls_import(args: argparse.Namespace) -> int:
    from displays.messages import say
    from hall.core.halls import import_hall
    from queueing.layout import LayoutError, load_layout

    try:
        layout = load_layout(args.layout)
    except LayoutError as e:
        from hall.cli import layout_words

        return _fail(layout_words(e))
    db = _db()
    try:
        with db.write() as conn:
            result = import_hall(conn, layout, now=SystemClock().now())
        db.analyze()
    finally:
        db.dispose()
    print(say("cli.hall_imported", hall_code=layout.code, name=layout.name, id=result.hall_id, windows=len(layout.windows),
              categories=len(layout.categories)))
    # The import replaces the layout file's part only: say which 潮汐 changes it kept or ended.
    if result.kept:
        print(say("layout_overrides_kept", windows="、".join(f"{n}号窗口" for n in result.kept)))
    if result.dropped:
        print(say("layout_overrides_dropped", windows="、".join(f"{n}号窗口" for n in result.dropped)))
    return 0


def _export_events(args: argparse.Namespace) -> int:
    from hall.cli.export import ExportError, export_events

    db = _db()
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        n = export_events(db, args.hall, out, since=args.since, until=args.until)
    except ExportError as e:
        return _fail(str(e))
    finally:
        if out is not sys.stdout:
            out.close()
    print(say("cli.events_exported", n=n), file=sys.stderr)
    return 0


def _backup(args: argparse.Namespace) -> int:
    from hall.cli.backup import BackupError, backup

    s = _settings()
    try:
        path = backup(s, args.target)
    except BackupError as e:
        return _fail(str(e))
    print(path)
    return 0


def _close_day(args: argparse.Namespace) -> int:
    from hall.core.daily import close_day
    from hall.core.registry import HallRegistry

    db = _db()
    registry = HallRegistry(db)
    registry.refresh()
    halls = [registry.get(code) for code in args.hall] if args.hall else registry.all()
    for h in halls:
        n, _ = close_day(db, h, now=SystemClock().now(), include_today=args.today, reason=args.reason)
        print(say("cli.day_closed", hall=h.code, n=n))
    return 0
