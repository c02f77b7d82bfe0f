"""Accounts, bearer tokens and who may do what.

Users have a role (admin, city, manager, staff, planner) and, unless admin or city, a list of halls they act
in. Devices (kiosk, screen, pad, bridge) belong to one hall and maybe one window. Both present a
bearer token; only its SHA-256 is stored. Passwords are hashed with argon2.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select

from hall.errors import forbidden, unauthorized
from hall.store.models import AuthToken, Device, User, UserHall

__all__ = [
    "Role",
    "DeviceKind",
    "Principal",
    "hash_password",
    "verify_password",
    "new_token",
    "token_hash",
    "issue_token",
    "resolve_token",
    "TokenCache",
    "require",
]

_hasher = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"
    CITY = "city"  # a city manager: every hall and station of the server (the city), as a manager
    MANAGER = "manager"
    STAFF = "staff"
    PLANNER = "planner"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    SCREEN = "screen"
    PAD = "pad"
    BRIDGE = "bridge"
    SITE = "site"  # a site server (township centre, hall) replicating its halls to the city server


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request. `halls` is None for an admin (every hall)."""

    kind: str  # "user" | "device"
    id: int
    name: str
    role: str  # a Role for users, a DeviceKind for devices
    halls: frozenset[int] | None
    window: int | None = None  # a device's window

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None

    @property
    def device_id(self) -> int | None:
        return self.id if self.kind == "device" else None

    def in_hall(self, hall_id: int) -> bool:
        return self.halls is None or hall_id in self.halls

    def actor(self) -> str:
        return f"{self.kind}:{self.name}"


# What each action needs: user roles and device kinds that may do it (always within their halls).
_RULES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "issue": (frozenset({"admin", "manager", "staff"}), frozenset({"kiosk", "bridge"})),
    "window": (frozenset({"admin", "manager", "staff"}), frozenset({"bridge"})),
    "ticket": (frozenset({"admin", "manager", "staff"}), frozenset({"bridge"})),
    # A kiosk never rates: only the window's own pad, or the bridge for a pad it drives.
    "rate": (frozenset({"admin", "manager"}), frozenset({"pad", "bridge"})),
    "manage": (frozenset({"admin", "city", "manager"}), frozenset()),
    "read_staff": (frozenset({"admin", "city", "manager", "staff", "planner"}), frozenset({"bridge", "kiosk", "pad", "screen"})),
    "read_screen": (frozenset({"admin", "city", "manager", "staff", "planner"}), frozenset({"bridge", "kiosk", "pad", "screen"})),
    # Device status comes from the devices: a bridge for itself and what it drives, a page for itself.
    "heartbeat": (frozenset(), frozenset({"bridge", "kiosk", "screen", "pad"})),
    "replicate": (frozenset({"admin"}), frozenset({"site"})),
}


def require(principal: Principal | None, action: str, hall_id: int) -> Principal:
    """The principal if it may do `action` in the hall; raises ApiError 401 or 403 otherwise."""
    if principal is None:
        raise unauthorized()
    roles, kinds = _RULES[action]
    allowed = roles if principal.kind == "user" else kinds
    if principal.role not in allowed:
        raise forbidden(f"a {principal.role} may not {action.replace('_', ' ')}")
    if not principal.in_hall(hall_id):
        raise forbidden("not allowed in this hall")
    return principal


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    conn: Connection, *, user_id: int | None = None, device_id: int | None = None, hours: float | None = None
) -> str:
    """Store a new token for a user (with a lifetime) or a device (no expiry) and return it."""
    token = new_token()
    now = time.time()
    conn.execute(
        insert(AuthToken).values(
            token_hash=token_hash(token),
            user_id=user_id,
            device_id=device_id,
            created_at=now,
            expires_at=now + hours * 3600 if hours else None,
        )
    )
    return token


def resolve_token(conn: Connection, token: str, now: float | None = None) -> Principal | None:
    """The principal a token stands for, or None when it is unknown, expired or disabled."""
    now = time.time() if now is None else now
    row = conn.execute(select(AuthToken).where(AuthToken.token_hash == token_hash(token))).first()
    if row is None or (row.expires_at is not None and row.expires_at < now):
        return None
    if row.user_id is not None:
        user = conn.execute(select(User).where(User.id == row.user_id)).first()
        if user is None or not user.active:
            return None
        halls = None
        if user.role not in (Role.ADMIN, Role.CITY):
            ids = conn.execute(select(UserHall.hall_id).where(UserHall.user_id == user.id)).scalars()
            halls = frozenset(ids)
        return Principal("user", user.id, user.name, user.role, halls)
    device = conn.execute(select(Device).where(Device.id == row.device_id)).first()
    if device is None or not device.active:
        return None
    return Principal("device", device.id, device.code, device.kind, frozenset({device.hall_id}), device.window)


class TokenCache:
    """Resolved tokens for a few seconds, so a busy keypad does not cost a lookup per press.

    A revoked token keeps working for at most `ttl` seconds in each process.
    """

    def __init__(self, ttl: float = 30.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[str, tuple[float, Principal | None]] = {}

    def get(self, token: str) -> tuple[bool, Principal | None]:
        hit = self._items.get(token)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, token: str, principal: Principal | None) -> None:
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[token] = (time.monotonic() + self.ttl, principal)
