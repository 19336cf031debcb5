"""Whose call records a request may read, and the searches every face shares.

An account's records are its own; an account that can have children (a reseller, the
master) also reads those of every account below it. The subtree is taken from the tree
as it is now (``account_id`` in the accounts under the path), not from the
``account_path`` written at ingest, so a customer moved to another reseller goes with
its history. Unattributed legs (no account) belong to nobody's history.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

from cdr.models import CallRecord
from cdr.rollups import MISSED_CAUSES
from tenants.models import Account


def subtree_ids(account: Account) -> list[int]:
    """The account and, when it can have children, every account below it (deleted ones
    too: their calls were made and stay in the parent's history and usage)."""
    if not account.can_have_children:
        return [account.pk]
    return list(Account.objects.subtree_of(account).order_by().values_list("pk", flat=True))


def records_of(account: Account) -> QuerySet[CallRecord]:
    """The call records ``account`` may read (its own, or its subtree's)."""
    if not account.can_have_children:
        return CallRecord.objects.filter(account_id=account.pk)
    return CallRecord.objects.filter(
        account_id__in=Account.objects.subtree_of(account).order_by().values("pk"))


def visible_to(identity) -> QuerySet[CallRecord]:
    """What an identity (tenants.identity.Identity, or the portal's) may read."""
    return records_of(identity.account)


def calls_of_extension(account: Account, extension_number: str) -> QuerySet[CallRecord]:
    """One extension's own call history in ``account`` (never its subtree), newest first:
    the legs its phones placed (a-legs) and the legs that rang it (b-legs; a ring group
    or a transfer rings it on a b-leg of its own). Filter further with
    ``cdr.filtersets.CallRecordFilterSet`` or slice it."""
    return (CallRecord.objects.filter(account_id=account.pk, extension=extension_number)
            .order_by("-start_at", "-leg_uuid"))


def result_q(result: str) -> Q:
    """The records whose result (cdr.rollups.RESULTS) is ``result``."""
    unanswered = Q(answer_at__isnull=True)
    busy = Q(hangup_cause="USER_BUSY") | Q(sip_status=486)
    missed = Q(hangup_cause__in=MISSED_CAUSES)
    if result == "answered":
        return Q(answer_at__isnull=False)
    if result == "busy":
        return unanswered & busy
    if result == "missed":
        return unanswered & ~busy & missed
    if result == "failed":
        return unanswered & ~busy & ~missed
    raise ValueError(result)


def result_of(record: CallRecord) -> str:
    """The same rule for one record in Python (tables, CSV)."""
    if record.answer_at is not None:
        return "answered"
    if record.hangup_cause == "USER_BUSY" or record.sip_status == 486:
        return "busy"
    return "missed" if record.hangup_cause in MISSED_CAUSES else "failed"


# ----------------------------------------------------------------------------------------
# Keyset pages: newest first, on (start_at, leg_uuid), the ordering the (account_id,
# start_at) index gives. A page is found by where it starts, never by skipping rows, so
# the last page costs what the first does.


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    start_at: datetime
    leg_uuid: uuid.UUID
    # "after": the page of older records below this one; "before": the newer page above.
    way: str

    def encode(self) -> str:
        text = f"{self.way}|{self.start_at.timestamp():.6f}|{self.leg_uuid}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | str:
        """A cursor, or the word "last" (the oldest page)."""
        if token == "last":
            return token
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            way, stamp, leg = text.split("|")
            if way not in ("after", "before"):
                raise ValueError(way)
            return cls(datetime.fromtimestamp(float(stamp), tz=UTC), uuid.UUID(leg), way)
        except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError, OSError) as exc:
            raise BadCursor("Invalid cursor.") from exc


@dataclass(frozen=True)
class Page:
    rows: list[CallRecord]
    next: str | None  # older records
    previous: str | None  # newer records


def keyset_page(queryset: QuerySet[CallRecord], token: str | None, size: int) -> Page:
    """One page of ``queryset`` (newest first) from a cursor token (None: the first
    page, "last": the oldest page). One query of ``size + 1`` rows."""
    cursor = Cursor.decode(token) if token else None
    newest_first = queryset.order_by("-start_at", "-leg_uuid")
    oldest_first = queryset.order_by("start_at", "leg_uuid")
    if cursor is None:
        rows = list(newest_first[:size + 1])
        more_after, more_before = len(rows) > size, False
        rows = rows[:size]
    elif cursor == "last":
        rows = list(oldest_first[:size + 1])
        more_before, more_after = len(rows) > size, False
        rows = rows[:size][::-1]
    elif cursor.way == "after":
        rows = list(newest_first.filter(
            Q(start_at__lt=cursor.start_at) | Q(start_at=cursor.start_at, leg_uuid__lt=cursor.leg_uuid)
        )[:size + 1])
        more_after, more_before = len(rows) > size, True
        rows = rows[:size]
    else:
        rows = list(oldest_first.filter(
            Q(start_at__gt=cursor.start_at) | Q(start_at=cursor.start_at, leg_uuid__gt=cursor.leg_uuid)
        )[:size + 1])
        more_before, more_after = len(rows) > size, True
        rows = rows[:size][::-1]
    next_token = previous_token = None
    if rows and more_after:
        next_token = Cursor(rows[-1].start_at, rows[-1].leg_uuid, "after").encode()
    if rows and more_before:
        previous_token = Cursor(rows[0].start_at, rows[0].leg_uuid, "before").encode()
    return Page(rows, next_token, previous_token)
