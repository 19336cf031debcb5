"""``Idempotency-Key`` on POST (switchboard/api/idempotency.py)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.response import Response

from pbx.models import Extension
from switchboard.api.idempotency import Pending
from tenants.models import IdempotencyRecord
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension
from tests.switchboard.api.client import Api, accounts_url, body, key_for


def extensions(tree: Tree) -> list[str]:
    with schema_context(tree.c1.schema_name):
        return list(Extension.objects.values_list("number", flat=True))


def test_the_same_key_with_another_request_is_422_and_makes_nothing(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    url = accounts_url(tree.c1, "extensions")
    assert api.send("post", url, {"number": "1001", "name": "A"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    reused = api.send("post", url, {"number": "1002", "name": "B"}, HTTP_IDEMPOTENCY_KEY="k")
    assert reused.status_code == 422 and body(reused)["detail"].startswith("This Idempotency-Key")
    assert extensions(tree) == ["1001"]


def test_a_failed_request_stores_nothing_so_it_may_be_retried(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    url = accounts_url(tree.c1, "extensions")
    assert api.send("post", url, {"number": "12", "name": "A"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert api.send("post", url, {"number": "1001", "name": "A"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_keys_belong_to_their_user_and_expire(tree: Tree):
    url = accounts_url(tree.c1, "extensions")
    first = Api(token=key_for(tree.user("c1_admin")))
    second = Api(token=key_for(tree.user("r1_admin")))
    made = first.send("post", url, {"number": "1001", "name": "A"}, HTTP_IDEMPOTENCY_KEY="k")
    assert made.status_code == 201
    # Another user's identical key is theirs: it creates (and here collides on the number).
    assert second.send("post", url, {"number": "1001", "name": "A"},
                       HTTP_IDEMPOTENCY_KEY="k").status_code == 409
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = first.send("post", url, {"number": "1001", "name": "A"}, HTTP_IDEMPOTENCY_KEY="k")
    assert expired.status_code == 409 and "Idempotent-Replayed" not in expired.headers


def test_a_key_must_be_short_and_printable(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    url = accounts_url(tree.c1, "extensions")
    for key in ("x" * 256, "   "):
        refused = api.send("post", url, {"number": "1001", "name": "A"}, HTTP_IDEMPOTENCY_KEY=key)
        assert refused.status_code == 400 and "Idempotency-Key" in body(refused)
    assert extensions(tree) == []


def test_a_concurrent_duplicate_is_rolled_back_and_answered_with_the_first_result(tree: Tree):
    """Two requests with one key both ran: the one whose record lands second gives the
    first one's answer, and its own write is undone with its transaction."""
    user = tree.user("c1_admin")
    # The first request's record, committed while this one was running.
    IdempotencyRecord.objects.create(user=user, key="k", request_hash="hash", status_code=201,
                                     response_body={"id": 1, "number": "1001"},
                                     expires_at=timezone.now() + timedelta(hours=1))
    pending = Pending(user, "k", "hash")
    with transaction.atomic():  # this request's transaction (ApiViewSet.dispatch)
        extension(tree.c1, "1002")  # its own write
        answer = pending.store(Response({"id": 2, "number": "1002"}, status=201))
    assert (answer.status_code, answer.data, answer.headers["Idempotent-Replayed"]) == (
        201, {"id": 1, "number": "1001"}, "true")
    assert extensions(tree) == []
    assert IdempotencyRecord.objects.get().response_body == {"id": 1, "number": "1001"}
