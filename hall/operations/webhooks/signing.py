"""Webhook signatures and retry schedule, pure.

A delivery is a POST of the event envelope as JSON with headers

    X-Hall-Event: ticket.rated
    X-Hall-Delivery: <delivery id>
    X-Hall-Timestamp: 1763700000            (epoch seconds)
    X-Hall-Signature: sha256=<hex>          HMAC-SHA256(secret, f"{timestamp}." + body)

A receiver recomputes the HMAC over the exact body bytes, compares in constant time, and refuses a
timestamp older than its tolerance (replay). The same event is retried with the same delivery id
and seq, so a receiver drops duplicates by `X-Hall-Delivery` (or the envelope's hall + seq).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["sign", "signature_headers", "verify", "backoff_seconds"]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_headers(
    secret: str, timestamp: int, body: bytes, event_type: str, delivery_id: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hall-Event": event_type,
        "X-Hall-Delivery": str(delivery_id),
        "X-Hall-Timestamp": str(timestamp),
        "X-Hall-Signature": sign(secret, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance: float = 300.0
) -> bool:
    """True when the signature matches the body and the timestamp is within `tolerance` seconds."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered.get("x-hall-timestamp", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, lowered.get("x-hall-signature", ""))


def backoff_seconds(attempts: int, base: float = 2.0, cap: float = 3600.0) -> float:
    """Wait before the next try after `attempts` failed tries: 2, 4, 8 … seconds, at most `cap`."""
    if attempts < 1:
        return 0.0
    return min(cap, base * (2 ** (attempts - 1)))
