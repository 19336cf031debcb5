"""SIP secrets at rest: encrypted (Fernet), because FreeSWITCH needs an ``a1-hash`` per
realm (the primary domain or any alias) and a hash for one realm does not serve another.
The plaintext is never put in a directory document."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets as stdlib_secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

log = logging.getLogger(__name__)

SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@cache
def _fernet(key_material: str) -> MultiFernet:
    """Comma-separated keys: the first encrypts, all decrypt, so a key can be rotated by
    putting the new one first."""
    keys = [k.strip() for k in key_material.split(",") if k.strip()]
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode()).digest())) for k in keys
    ])


def _key_material() -> str:
    return settings.SIP_SECRET_ENCRYPTION_KEY or settings.SECRET_KEY


def encrypt_secret(plaintext: str) -> str:
    return _fernet(_key_material()).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The plaintext, or None if the token was made with another key."""
    try:
        return _fernet(_key_material()).decrypt(token.encode()).decode()
    except InvalidToken:
        # Loud: every phone of this device would silently get 403.
        log.error("a SIP secret cannot be decrypted: was SWITCHBOARD_SIP_SECRET_KEY changed "
                  "without keeping the old key after the new one?")
        return None


def generate_secret(length: int = 20) -> str:
    return "".join(stdlib_secrets.choice(SECRET_ALPHABET) for _ in range(length))


def generate_pin(avoid: str = "", length: int = 6) -> str:
    while True:
        pin = "".join(stdlib_secrets.choice("0123456789") for _ in range(length))
        if pin != avoid:
            return pin


def a1_hash(username: str, realm: str, secret: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{secret}".encode()).hexdigest()
