"""Personal data at rest: ID and phone numbers encrypted with AES-GCM, plus a keyed hash.

The keyed hash (HMAC-SHA256) lets the server find "a waiting ticket of this ID number" without
decrypting anything; the ciphertext is opened only by the follow-up (回访) and notification
features. Both keys derive from HALL_SECRET_KEY through HKDF with different labels.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["PersonalData", "mask"]


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hall-queueing", info=label).derive(
        secret.encode("utf-8")
    )


class PersonalData:
    """Encrypts, decrypts and hashes ID and phone numbers with keys derived from `secret`."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a secret key is needed to protect personal data")
        self._aead = AESGCM(_derive(secret, b"personal-data-aes-gcm"))
        self._mac_key = _derive(secret, b"personal-data-lookup")

    def encrypt(self, value: str, context: str) -> str:
        """Base64 of nonce + ciphertext; `context` (e.g. "id") is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), context.encode("utf-8"))
        return base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, context: str) -> str:
        """Raises cryptography.exceptions.InvalidTag when the key or context is wrong."""
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")

    def lookup_hash(self, value: str, context: str) -> str:
        """A stable keyed hash for equality lookups; normalises case and spaces first."""
        normal = "".join(value.split()).upper()
        return hmac.new(self._mac_key, f"{context}:{normal}".encode(), hashlib.sha256).hexdigest()


def mask(value: str, keep_start: int = 3, keep_end: int = 4) -> str:
    """"13812345678" → "138****5678"; short values are masked whole."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
