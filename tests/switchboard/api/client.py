"""Talking to the API in tests: a client bound to a host, with an API key or a session."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpResponse

from tenants.actions import do_create_api_key
from tenants.models import Account, User
from tests.conftest import Browser

PROVIDER_HOST = "localhost"


def key_for(user: User, *, read_only: bool = False, expires_at: datetime | None = None,
            name: str = "test") -> str:
    """A fresh API key of ``user`` (made by the user), as its token."""
    _key, token = do_create_api_key(user.account, actor=user, user=user, name=name, read_only=read_only,
                                    expires_at=expires_at)
    return token


def host_of(account: Account) -> str:
    """The account's portal host in the tree fixture (``<name>.localhost``)."""
    return next(d.domain for d in account.domains.all() if d.domain.endswith(".localhost"))


class Api(Browser):
    """JSON in and out, on one host, with a token (or a session, or nobody)."""

    def __init__(self, host: str = PROVIDER_HOST, token: str | None = None, **kwargs: Any) -> None:
        if token is not None:
            kwargs["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(host, **kwargs)

    def send(self, method: str, url: str, data: Any = None, **extra: Any) -> HttpResponse:
        body = json.dumps(data) if data is not None else ""
        return self.generic(method.upper(), url, body, content_type="application/json", **extra)


def body(response: HttpResponse) -> Any:
    return json.loads(response.content) if response.content else None


def accounts_url(account: Account | int, *rest: Any) -> str:
    pk = account.pk if isinstance(account, Account) else account
    return "/".join(["/api/v1/accounts", str(pk), *[str(part) for part in rest]]) + "/"
