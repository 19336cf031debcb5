"""``Idempotency-Key`` on POST: a retried create returns the first answer and makes
nothing twice.

The first successful (2xx) answer is stored with the key, the user and a hash of the
request, in the same transaction as the write it reports, so either both are kept or
neither. A retry with the same key and the same request gets the stored answer (marked
``Idempotent-Replayed: true``); the same key with a different request is refused (422),
as it is a client's bug. Two concurrent requests with one key: the second waits on the
first's row, and then answers with the first's result, its own write rolled back. A
failed request stores nothing, so it may simply be retried. Keys are kept for
IDEMPOTENCY_TTL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.models import IdempotencyRecord, User

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


class Replay(Exception):
    """Raised before the handler runs when the answer is already known."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record

    def response(self) -> Response:
        return replay_response(self.record)


def replay_response(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def _jsonable(value: object) -> object:
    """An uploaded file (a multipart POST) counts by its name and content, so a retry of
    the same upload matches and another file under the same key does not."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"{value.name}:{digest.hexdigest()}"
    return str(value)


def request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=_jsonable, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n{body}".encode()).hexdigest()


@dataclass
class Pending:
    """A POST with a key whose answer is not known yet."""

    user: User
    key: str
    request_hash: str

    def store(self, response: Response) -> Response:
        """Keep a successful answer; when a concurrent request with the same key got there
        first, give its answer instead and undo this one's write."""
        if not 200 <= response.status_code < 300:
            return response
        now = timezone.now()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user=self.user, key=self.key, request_hash=self.request_hash,
                    status_code=response.status_code, response_body=response.data,
                    expires_at=now + IDEMPOTENCY_TTL,
                )
        except IntegrityError:
            # Read the winner's answer first: once this transaction is marked for
            # rollback it may run no more queries.
            first = IdempotencyRecord.objects.get(user=self.user, key=self.key)
            transaction.set_rollback(True)
            if first.request_hash != self.request_hash:
                return Response({"detail": KeyReused.default_detail, "code": KeyReused.default_code},
                                status=KeyReused.status_code)
            return replay_response(first)
        return response


def begin(request: Request, user: User) -> Pending | None:
    """For a POST carrying the header: raise Replay when its answer is stored, KeyReused
    when the key was used for another request, else return what to store afterwards."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError({HEADER: [f"Give 1 to {MAX_KEY_LENGTH} printable characters."]})
    digest = request_hash(request)
    now = timezone.now()
    found = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if found is not None and found.expires_at <= now:
        found.delete()
        found = None
    if found is not None:
        if found.request_hash != digest:
            raise KeyReused()
        raise Replay(found)
    return Pending(user, key, digest)


def forget_expired() -> int:
    """Delete expired records (run periodically; a lookup also ignores them)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
