"""Call legs stored through the ingest's own statement (cdr.store.store), so a test's
records come with their roll-ups exactly as a FreeSWITCH post would leave them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cdr.ingest import Fields
from cdr.store import store
from tenants.models import Account

BASE = Fields(
    leg_uuid=uuid.UUID(int=0), leg="a", call_uuid=uuid.UUID(int=0), other_leg_uuid=None,
    start_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC), answer_at=None, end_at=None, duration=0, billsec=0,
    hangup_cause="NORMAL_CLEARING", q850=16, sip_status=None, caller_number="1001", caller_name="Alice",
    callee_number="1002", extension="1001", did="", gateway="", destination_kind="extension", app="",
    account_hint="", domain_hint="", node="fs1", format="json", public_inbound=False, outbound_number="",
)


def leg(account: Account | None, *, start_at: datetime | None = None, talk: int | None = None,
        **changes) -> Fields:
    """A leg of ``account``; ``talk`` seconds makes it answered (answer 5 s after start)."""
    fields = replace(BASE, leg_uuid=uuid.uuid4(), account_hint=str(account.pk) if account else "", **changes)
    fields = replace(fields, call_uuid=changes.get("call_uuid", fields.leg_uuid),
                     start_at=start_at or BASE.start_at)
    if talk is not None:
        answer = fields.start_at + timedelta(seconds=5)
        fields = replace(fields, answer_at=answer, end_at=answer + timedelta(seconds=talk),
                         duration=5 + talk, billsec=talk)
    else:
        fields = replace(fields, end_at=fields.start_at + timedelta(seconds=20), duration=20)
    return fields


def put(fields: Fields) -> bool:
    return store(fields, b"{}")


def call(account: Account, *, start_at: datetime | None = None, talk: int | None = None, caller: str = "1001",
         callee: str = "1002", **changes) -> tuple[Fields, Fields]:
    """An internal call: ``caller``'s a-leg and the b-leg that rang ``callee``; both stored."""
    a = leg(account, start_at=start_at, talk=talk, extension=caller, caller_number=caller,
            callee_number=callee, **changes)
    rung = leg(account, start_at=a.start_at, talk=talk, extension=callee, caller_number=caller,
               callee_number=callee, **changes)
    b = replace(rung, leg="b", call_uuid=a.leg_uuid, other_leg_uuid=a.leg_uuid)
    assert put(a) and put(b)
    return a, b
