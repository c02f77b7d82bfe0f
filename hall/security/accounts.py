"""Creating users and devices (the CLI's `hall users add`, `hall devices add`, and the demo)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from hall.security.auth import DeviceKind, Role, hash_password, issue_token
from hall.store.models import AuditEntry, Device, Hall, User, UserHall

__all__ = ["add_user", "add_device", "AccountError"]


class AccountError(ValueError):
    """A user or device cannot be created as asked (message says why)."""


def _hall_ids(conn: Connection, codes: Sequence[str]) -> list[int]:
    ids = []
    for code in codes:
        hid = conn.execute(select(Hall.id).where(Hall.code == code)).scalar()
        if hid is None:
            raise AccountError(f"unknown hall {code!r} (import its layout first: hall halls import FILE)")
        ids.append(hid)
    return ids


def add_user(
    conn: Connection, username: str, password: str, *, role: str, name: str | None = None,
    halls: Sequence[str] = (), actor: str = "cli", update_existing: bool = False,
) -> int:
    """Create (or with `update_existing` reset) a user; non-admins act only in `halls`."""
    try:
        role = Role(role).value
    except ValueError:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if not username or len(username) > 64:
        raise AccountError("username: 1 to 64 characters")
    try:
        hashed = hash_password(password)
    except ValueError as e:
        raise AccountError(str(e)) from None
    hall_ids = _hall_ids(conn, halls)
    now = time.time()
    uid = conn.execute(select(User.id).where(User.username == username)).scalar()
    if uid is not None and not update_existing:
        raise AccountError(f"user {username!r} exists")
    if uid is None:
        uid = conn.execute(
            insert(User).values(username=username, name=name or username, role=role, password_hash=hashed, active=True, created_at=now).returning(User.id)
        ).scalar_one()
    else:
        conn.execute(update(User).where(User.id == uid).values(name=name or username, role=role, password_hash=hashed, active=True))
        conn.execute(delete(UserHall).where(UserHall.user_id == uid))
    for hid in hall_ids:
        conn.execute(insert(UserHall).values(user_id=uid, hall_id=hid))
    conn.execute(
        insert(AuditEntry).values(
            at=now, hall_id=None, user_id=None, device_id=None, actor=actor, action="user.add", target=username,
            detail={"role": role, "halls": list(halls)},
        )
    )
    return int(uid)


def add_device(
    conn: Connection, kind: str, hall: str, *, window: int | None = None, name: str = "", code: str | None = None,
    actor: str = "cli",
) -> tuple[int, str]:
    """Create a device of a hall and return (id, bearer token). The token is shown only now."""
    try:
        kind = DeviceKind(kind).value
    except ValueError:
        raise AccountError(f"kind must be one of {', '.join(k.value for k in DeviceKind)}") from None
    (hall_id,) = _hall_ids(conn, [hall])
    now = time.time()
    code = code or f"{hall}-{kind}-{window or ''}-{secrets.token_hex(3)}".replace("--", "-")
    did = conn.execute(
        insert(Device).values(code=code, hall_id=hall_id, kind=kind, window=window, name=name or code, active=True, created_at=now).returning(Device.id)
    ).scalar_one()
    token = issue_token(conn, device_id=did)
    conn.execute(
        insert(AuditEntry).values(
            at=now, hall_id=hall_id, user_id=None, device_id=did, actor=actor, action="device.add", target=code,
            detail={"kind": kind, "window": window},
        )
    )
    return int(did), token
