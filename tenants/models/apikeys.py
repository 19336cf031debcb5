"""API keys: how a program acts as one staff user, bound to that user's account.

A token is ``sb_<prefix>_<secret>``: the prefix (public, shown in lists) finds the row in
one indexed lookup, the whole token's SHA-256 is compared in constant time. The secret
has 256 bits of entropy, so a fast hash is enough (a slow password hash protects guessable
secrets; nobody guesses 2^256). The token itself is shown once, when it is made, and
never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.validators import validate_printable

TOKEN_START = "sb_"
PREFIX_LENGTH = 10
# Lower-case letters and digits: the prefix reads unambiguously in a list and in logs.
_PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh (prefix, token)."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return prefix, f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"


def prefix_of(token: str) -> str | None:
    """The lookup prefix of something that looks like one of our tokens, else None."""
    if not token.startswith(TOKEN_START):
        return None
    prefix, underscore, secret = token[len(TOKEN_START):].partition("_")
    if len(prefix) != PREFIX_LENGTH or not underscore or not secret:
        return None
    return prefix


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now: datetime | None = None) -> ApiKeyQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def matching(self, token: str) -> ApiKey | None:
        """The key this token is, whatever its state (revoked, expired), or None. One
        query (the key with its user and account)."""
        prefix = prefix_of(token)
        if prefix is None:
            return None
        key = self.select_related("user__account", "account").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.token_hash, hash_token(token)):
            return None
        return key


class ApiKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    # The account the key acts for: its user's. Kept on the key so a key whose user
    # somehow ended up elsewhere stops working instead of following the user.
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, validators=[validate_printable],
                            help_text="What uses this key, e.g. “billing sync”.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    read_only = models.BooleanField(default=False, help_text="Only reads, whatever the user's role.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_START}{self.prefix}_…)"

    @property
    def shown_prefix(self) -> str:
        return f"{TOKEN_START}{self.prefix}_…"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
