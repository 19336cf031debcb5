"""Helpers of the routing-action tests (numbering, forwarding, ring groups, IVRs,
conference rooms, follow-me, call blocking)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from pbx.actions import do_create_extension
from pbx.models import Extension
from tenants.models import Account, AuditEvent


@contextmanager
def refused(field: str | None = None):
    """Expect a ValidationError (on ``field`` when given); yields a holder whose
    ``messages`` are the field's (or all) messages."""
    class Result:
        messages: list[str] = []

    result = Result()
    with pytest.raises(ValidationError) as caught:
        yield result
    exc = caught.value
    if field is None:
        result.messages = exc.messages
        return
    assert hasattr(exc, "error_dict"), f"expected an error on {field!r}, got {exc.messages}"
    assert field in exc.message_dict, f"expected an error on {field!r}, got {exc.message_dict}"
    result.messages = exc.message_dict[field]


def extension(account: Account, number: str, name: str | None = None, **fields) -> Extension:
    return do_create_extension(account, number=number, name=name or f"User {number}",
                               voicemail_pin=fields.pop("voicemail_pin", "4" + number[::-1] + "9"),
                               **fields)


def ref(obj) -> str:
    """The destination stored for ``obj`` (an Extension, RingGroup, Ivr, ...)."""
    from pbx.models.destinations import OBJECT_KINDS

    kind = next(kind for kind, label in OBJECT_KINDS.items() if label == obj._meta.label)
    return f"{kind}:{obj.pk}"


def last_event(account: Account, action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(account=account, action=action).order_by("-id").first()
    assert event is not None, f"no {action} audit event"
    return event




def reload(account: Account, obj):
    with schema_context(account.schema_name):
        return type(obj).objects.get(pk=obj.pk)


def exists(account: Account, obj) -> bool:
    with schema_context(account.schema_name):
        return type(obj).objects.filter(pk=obj.pk).exists()


def padded(account: Account, count: int) -> None:
    """Use up primary keys in ``account``'s schema so its rows' pks differ from another
    tenant's (isolation tests must not pass because pks happen to coincide)."""
    for n in range(count):
        extension(account, str(7000 + n))
