"""The tests every object of the API inherits (conventions.md, "Tests generated per
object"). A test class declares the object and gets: create / read / update / delete by
an ancestor's admin with the audit event naming them and their address, a field error as
400, an idempotent retried create, every write refused to read-only keys and users with
nothing changed, the call-center supervisor writing only the objects its role writes (call
queues) and refused the rest, 401 without credentials, another tenant's key and session refused on
this host, another tenant's object ids answering 404 exactly like missing ones with the
victim unchanged, a sibling reseller and a customer on its parent's path kept out,
revoked and expired keys refused, and the query count of a list page pinned whatever
its size. tests/switchboard/api/test_routes.py fails on any API route no class covers.

The objects live in C1 (a customer of the reseller R1) of the ``tree`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

from django.db import connection, models
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.actions import do_create_staff_user, do_revoke_api_key
from tenants.models import Account, ApiKey, AuditEvent, Role
from tests.conftest import PASSWORD, Browser, Tree
from tests.switchboard.api.client import Api, accounts_url, body, host_of, key_for

MISSING_ID = 987654


class ObjectApiTests:
    # The router's basename: the class covers the routes "<basename>-list" and
    # "<basename>-detail", plus ``extra_routes`` (which it must test itself).
    basename: ClassVar[str]
    extra_routes: ClassVar[tuple[str, ...]] = ()
    # The path segment under /api/v1/accounts/{account_id}/.
    path: ClassVar[str]
    model: ClassVar[type[models.Model]]
    # Audit events are "<audit_name>.create" and so on.
    audit_name: ClassVar[str]
    create_data: ClassVar[dict[str, Any]]
    update_data: ClassVar[dict[str, Any]]
    # A create body refused field by field, and the field at fault.
    invalid_data: ClassVar[dict[str, Any]]
    invalid_field: ClassVar[str]
    # Queries of a list page with a key, the same for any page size.
    list_queries: ClassVar[int]
    # The URL names this class tests (test_routes.py checks every route has one).
    covered_routes: ClassVar[tuple[str, ...]] = ()
    # The audit verb of "create", "update" or "delete" where the actions name it otherwise
    # (a prompt's create is "prompt.upload").
    audit_verbs: ClassVar[dict[str, str]] = {}
    # Who writes in the tests below that need any admin of C1's objects: C1's own, unless
    # only an account above may write them (trunks).
    writer: ClassVar[str] = "c1_admin"
    # A call-center supervisor writes it (the call queues: pbx.actions.queues.QUEUE_WRITERS);
    # every other object refuses the supervisor's writes as read-only (403).
    supervisor_writes: ClassVar[bool] = False
    # False: the object is the admin's tool (trunks), absent (404) to a supervisor.
    supervisor_reads: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.covered_routes = (f"{cls.basename}-list", f"{cls.basename}-detail", *cls.extra_routes)
        # test_a_list_page_costs_the_same_queries_whatever_its_size (test_list_queries.py).
        cls.query_counted_routes = (f"{cls.basename}-list",)

    # --- declared per object ---------------------------------------------------------------

    def make(self, account: Account, index: int) -> models.Model:
        """An object made through the actions (the platform as actor); ``index`` keeps
        several apart."""
        raise NotImplementedError

    def payload(self, account: Account) -> dict[str, Any]:
        """The create body (a subclass fills in ids of objects it needs)."""
        return dict(self.create_data)

    def post(self, api: Api, url: str, data: dict[str, Any], **extra: Any) -> HttpResponse:
        """Send a create (JSON; an upload's class sends multipart)."""
        return api.send("post", url, data, **extra)

    # --- helpers -------------------------------------------------------------------------------

    def list_url(self, account: Account | int) -> str:
        return accounts_url(account, self.path)

    def detail_url(self, account: Account | int, pk: int) -> str:
        return accounts_url(account, self.path, pk)

    def rows(self, account: Account) -> list[dict[str, Any]]:
        with schema_context(account.schema_name):
            return [model_to_dict(row) for row in self.model.objects.order_by("pk")]

    def audit_count(self) -> int:
        return AuditEvent.objects.filter(action__startswith=f"{self.audit_name}.").count()

    def writes(self, account: Account, pk: int) -> Iterator[tuple[str, str, Any]]:
        yield "post", self.list_url(account), self.payload(account)
        yield "patch", self.detail_url(account, pk), self.update_data
        yield "delete", self.detail_url(account, pk), None

    def reads(self, account: Account, pk: int) -> Iterator[tuple[str, str, Any]]:
        yield "get", self.list_url(account), None
        yield "get", self.detail_url(account, pk), None

    # --- the inherited tests ---------------------------------------------------------------------

    def test_create_read_update_delete_as_an_ancestors_admin(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        created = self.post(api, self.list_url(tree.c1), self.payload(tree.c1))
        assert created.status_code == 201, body(created)
        pk = body(created)["id"]
        assert [row["id"] for row in self.rows(tree.c1)][-1] == pk
        self._assert_audited(tree.c1, "create", admin)

        read = api.send("get", self.detail_url(tree.c1, pk))
        assert read.status_code == 200 and body(read)["id"] == pk

        updated = api.send("patch", self.detail_url(tree.c1, pk), self.update_data)
        assert updated.status_code == 200, body(updated)
        for field, value in self.update_data.items():
            assert body(updated)[field] == value
        assert body(api.send("get", self.detail_url(tree.c1, pk))) == body(updated)
        self._assert_audited(tree.c1, "update", admin)

        listed = api.send("get", self.list_url(tree.c1))
        assert listed.status_code == 200 and pk in [item["id"] for item in body(listed)["results"]]

        deleted = api.send("delete", self.detail_url(tree.c1, pk))
        assert deleted.status_code == 204, body(deleted)
        assert pk not in [row["id"] for row in self.rows(tree.c1)]
        self._assert_audited(tree.c1, "delete", admin)
        assert api.send("get", self.detail_url(tree.c1, pk)).status_code == 404

    def _audit_action(self, verb: str) -> str:
        return f"{self.audit_name}.{self.audit_verbs.get(verb, verb)}"

    def _assert_audited(self, account: Account, verb: str, actor) -> None:
        event = AuditEvent.objects.filter(action=self._audit_action(verb)).order_by("-id").first()
        assert event is not None, f"no {self._audit_action(verb)} event"
        assert (event.account_id, event.actor_id, event.ip) == (account.pk, actor.pk, "127.0.0.1")

    def test_a_field_error_is_400_and_creates_nothing(self, tree: Tree):
        before = self.rows(tree.c1)
        refused = self.post(Api(token=key_for(tree.user(self.writer))), self.list_url(tree.c1),
                            {**self.payload(tree.c1), **self.invalid_data})
        assert refused.status_code == 400, body(refused)
        assert self.invalid_field in body(refused), body(refused)
        assert all(isinstance(m, str) for m in body(refused)[self.invalid_field])
        assert self.rows(tree.c1) == before

    def test_a_retried_create_with_an_idempotency_key_makes_one_object(self, tree: Tree):
        api = Api(token=key_for(tree.user(self.writer)))
        first = self.post(api, self.list_url(tree.c1), self.payload(tree.c1), HTTP_IDEMPOTENCY_KEY="k-1")
        again = self.post(api, self.list_url(tree.c1), self.payload(tree.c1), HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201, body(again)
        assert body(again) == body(first)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert len(self.rows(tree.c1)) == 1
        assert AuditEvent.objects.filter(action=self._audit_action("create")).count() == 1

    def test_read_only_keys_and_users_write_nothing(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        before, events = self.rows(tree.c1), self.audit_count()
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            api = Api(token=token)
            for method, url, data in self.writes(tree.c1, victim.pk):
                refused = api.send(method, url, data)
                assert refused.status_code == 403, (method, url, body(refused))
            for method, url, _data in self.reads(tree.c1, victim.pk):
                assert api.send(method, url).status_code == 200
        assert self.rows(tree.c1) == before
        assert self.audit_count() == events

    def test_a_supervisor_writes_only_what_its_role_writes(self, tree: Tree):
        """A reseller's call-center supervisor, on its customer C1: its key passes the
        API's checkpoint (it is not read-only), and the object's action decides."""
        supervisor = do_create_staff_user(tree.user("r1_admin"), account=tree.r1, username="r1_supervisor",
                                          password=PASSWORD, role=Role.SUPERVISOR)
        api = Api(token=key_for(supervisor))
        victim = self.make(tree.c1, 1)
        before, events = self.rows(tree.c1), self.audit_count()
        expected = 200 if self.supervisor_reads else 404
        for method, url, _data in self.reads(tree.c1, victim.pk):
            assert api.send(method, url).status_code == expected, (method, url)
        created = self.post(api, self.list_url(tree.c1), self.payload(tree.c1))
        updated = api.send("patch", self.detail_url(tree.c1, victim.pk), self.update_data)
        if not self.supervisor_writes:
            deleted = api.send("delete", self.detail_url(tree.c1, victim.pk))
            for refused in (created, updated, deleted):
                assert refused.status_code == (403 if self.supervisor_reads else 404), body(refused)
            assert self.rows(tree.c1) == before
            assert self.audit_count() == events
            return
        assert created.status_code == 201, body(created)
        self._assert_audited(tree.c1, "create", supervisor)
        assert updated.status_code == 200, body(updated)
        self._assert_audited(tree.c1, "update", supervisor)
        deleted = api.send("delete", self.detail_url(tree.c1, body(created)["id"]))
        assert deleted.status_code == 204, body(deleted)
        self._assert_audited(tree.c1, "delete", supervisor)
        assert [row["id"] for row in self.rows(tree.c1)] == [victim.pk]

    def test_no_credentials_is_401(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        for method, url, data in [*self.reads(tree.c1, victim.pk), *self.writes(tree.c1, victim.pk)]:
            for api in (Api(), Api(host=host_of(tree.c1))):
                refused = api.send(method, url, data)
                assert refused.status_code == 401, (method, url)
                assert refused.headers["WWW-Authenticate"].startswith("Bearer")

    def test_another_tenants_key_or_session_is_refused_on_this_host(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        before = self.rows(tree.c1)
        c2_admin = tree.user("c2_admin")
        signed_in_on_c2 = Browser(host_of(tree.c2)).login_as(c2_admin)
        replayed = Api(host=host_of(tree.c1))
        replayed.cookies = signed_in_on_c2.cookies
        for api in (Api(host=host_of(tree.c1), token=key_for(c2_admin)), replayed):
            for method, url, data in [*self.reads(tree.c1, victim.pk), *self.writes(tree.c1, victim.pk)]:
                assert api.send(method, url, data).status_code == 401, (method, url)
        assert self.rows(tree.c1) == before

    def test_other_tenants_objects_are_404_like_missing_ones(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        before, events = self.rows(tree.c1), self.audit_count()
        api = Api(token=key_for(tree.user("c2_admin")))
        missing = api.send("get", self.detail_url(tree.c2, MISSING_ID))
        assert missing.status_code == 404
        for method, url, data in [
            *self.reads(tree.c1, victim.pk), *self.writes(tree.c1, victim.pk),
            # C2's own path with C1's id: looked up among C2's rows, where it is not.
            ("get", self.detail_url(tree.c2, victim.pk), None),
            ("patch", self.detail_url(tree.c2, victim.pk), self.update_data),
            ("delete", self.detail_url(tree.c2, victim.pk), None),
        ]:
            refused = api.send(method, url, data)
            assert (refused.status_code, body(refused)) == (404, body(missing)), (method, url)
        assert self.rows(tree.c1) == before
        assert self.audit_count() == events

    def test_a_sibling_reseller_and_a_customer_on_its_parents_path_are_404(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        r1_victim = self.make(tree.r1, 1)
        before = (self.rows(tree.c1), self.rows(tree.r1))
        cases = [(tree.user("r2_admin"), tree.c1, victim), (tree.user("r2_admin"), tree.r1, r1_victim),
                 (tree.user("c1_admin"), tree.r1, r1_victim)]
        for user, account, obj in cases:
            api = Api(token=key_for(user))
            for method, url, data in [*self.reads(account, obj.pk), *self.writes(account, obj.pk)]:
                assert api.send(method, url, data).status_code == 404, (user.username, method, url)
        assert (self.rows(tree.c1), self.rows(tree.r1)) == before

    def test_revoked_and_expired_keys_are_401(self, tree: Tree):
        victim = self.make(tree.c1, 1)
        admin = tree.user("c1_admin")
        revoked, expired = key_for(admin), key_for(admin)
        do_revoke_api_key(tree.c1, ApiKey.objects.matching(revoked), actor=admin)
        ApiKey.objects.filter(pk=ApiKey.objects.matching(expired).pk).update(
            expires_at=timezone.now() - timedelta(seconds=1))
        for token, reason in ((revoked, "revoked"), (expired, "expired")):
            api = Api(token=token)
            for method, url, data in [*self.reads(tree.c1, victim.pk), *self.writes(tree.c1, victim.pk)]:
                refused = api.send(method, url, data)
                assert refused.status_code == 401 and reason in body(refused)["detail"], (method, url)

    def test_a_list_page_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        for index in range(1, 5):
            self.make(tree.c1, index)
        api = Api(token=key_for(tree.user(self.writer)))
        api.send("get", self.list_url(tree.c1))  # the key's first use also records it
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"{self.list_url(tree.c1)}?page_size={size}")
            assert page.status_code == 200 and len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts == [self.list_queries, self.list_queries], counts
