"""SIP secrets at rest: encrypted (Fernet), because FreeSWITCH needs an ``a1-hash`` per
realm (the primary domain or any alias) and a hash for one realm does not serve another.
The plaintext is never put in a directory document."""

from __future__ import annotations

import base64
import hashlib
import secrets as stdlib_secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@cache
def _fernet(key_material: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def _key_material() -> str:
    return settings.SIP_SECRET_ENCRYPTION_KEY or settings.SECRET_KEY


def encrypt_secret(plaintext: str) -> str:
    return _fernet(_key_material()).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The plaintext, or None if the token was made with another key."""
    try:
        return _fernet(_key_material()).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def generate_secret(length: int = 20) -> str:
    return "".join(stdlib_secrets.choice(SECRET_ALPHABET) for _ in range(length))


def a1_hash(username: str, realm: str, secret: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{secret}".encode()).hexdigest()
