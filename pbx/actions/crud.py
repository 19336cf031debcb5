"""The create / update / delete that the tenant's routed objects share (ring groups, auto
attendants, conference rooms, call queues, schedules, call blocks).

Each write here does, in this order and in one transaction: the role check (who may
write), the fields a caller may set, the write inside the tenant's schema under a row
lock, the numbering plan for a new or changed number, validation into field errors, the
loop check of the routes taken without anyone choosing, a refusal to delete what a
route still uses, the audit event, and the change signal whose receivers act when the
transaction commits. An object's module keeps only what is its own, by subclassing
:class:`CrudActions` (its fields, its extra checks, what FreeSWITCH's nodes must hear),
and its ``do_create_x`` / ``do_update_x`` / ``do_delete_x`` call one instance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Literal, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import prompt, refuse_if_used, refuse_loop, row
from pbx.actions.common import changed, only
from pbx.models import Destination
from pbx.numbering import refuse_taken
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, Role, User
from tenants.scoping import require_visible

M = TypeVar("M", bound=models.Model)
Verb = Literal["create", "update", "delete"]


END_USER_REFUSAL = "Your login manages only your own phone."
READ_ONLY_REFUSAL = "Your role is read-only."

# The staff roles that write a kind of object: every PBX write is the admins' unless the
# object's actions name more (a call queue: pbx.actions.queues.QUEUE_WRITERS).
ADMINS: tuple[str, ...] = (Role.ADMIN,)


def authorize(actor: User | None, account: Account, *, extension_pk: int | None = None,
              roles: tuple[str, ...] = ADMINS) -> None:
    """People act as themselves, on their own account or one below (a masquerading
    provider admin), and only in one of the ``roles`` that write what the action writes
    (admins, unless the action names more); ``actor`` None is the platform itself (demo
    data, a phone's feature code). An end user ("My phone") passes only where the action
    names the extension it writes (``extension_pk``) and that is the user's own; every
    other action refuses them, so an admin action cannot forget to."""
    if actor is None:
        return
    require_visible(actor, account)
    if actor.role == Role.END_USER:
        if extension_pk is not None and actor.is_bound_to(account.pk, extension_pk):
            return
        raise PermissionDenied(END_USER_REFUSAL)
    if actor.role not in roles:
        raise PermissionDenied(READ_ONLY_REFUSAL)


class CrudActions(Generic[M]):
    """Create, update and delete one kind of object; subclasses name the model and
    override the hooks that are the object's own."""

    model: type[M]
    # The audit event is "<audit_name>.create" and so on.
    audit_name: ClassVar[str]
    # Every field a caller may set (create takes its required ones by name).
    fields: ClassVar[tuple[str, ...]]
    # The destination kind calls reach it by (None: nothing routes to it, so neither
    # loops nor "still used" apply).
    kind: ClassVar[str | None] = None
    # It has a ``number`` in the tenant's numbering plan (empty: none).
    numbered: ClassVar[bool] = False
    # What the audit event names the object by on create and delete; on update the
    # first of them, beside the fields changed.
    identity: ClassVar[tuple[str, ...]] = ("name",)
    # Rows deleted with the object (model, foreign key to it): their routes to it, a
    # "repeat the menu" key for instance, do not hold the delete back.
    parts: ClassVar[tuple[tuple[type[models.Model], str], ...]] = ()
    # Fields naming another row of the tenant (field → model), given as an instance or a
    # primary key and checked to exist in this schema.
    row_fields: ClassVar[Mapping[str, type[models.Model]]] = {}
    # Fields naming a recording FreeSWITCH plays: it must exist and be converted.
    prompt_fields: ClassVar[tuple[str, ...]] = ()
    # What its writes change of the directory index (pbx.signals.IndexScope): most
    # routed objects are not in it (NOTHING); the whole when a subclass does not say.
    index: ClassVar[IndexScope] = IndexScope.WHOLE
    # The field (in ``row_fields``) naming the extension an object may belong to, whose
    # end user ("My phone") may then write it ("": admins only). ``authorize`` decides
    # from the value asked for, then again from the stored row and from the new value.
    owner_field: ClassVar[str] = ""
    # The staff roles that may write it (``authorize``'s ``roles``): admins unless it says.
    writers: ClassVar[tuple[str, ...]] = ADMINS

    # --- hooks -------------------------------------------------------------------------

    def apply(self, obj: M, fields: dict[str, Any]) -> None:
        """Set ``fields`` on ``obj``, turning submitted values into what is stored (a
        primary key into its row); a subclass normalizes its own values first."""
        for name, value in fields.items():
            if name in self.row_fields:
                value = row(self.row_fields[name], value, name)
            elif name in self.prompt_fields:
                value = prompt(value, name)
            setattr(obj, name, value)

    def prepare(self, account: Account, obj: M) -> None:
        """What comes before field-by-field validation (normalizing, dropping a value
        that no longer applies)."""

    def check(self, account: Account, obj: M, fields: Mapping[str, Any]) -> None:
        """The object's own rules, after the fields are valid one by one (routes exist
        and are allowed here, codes are free)."""

    def routes(self, obj: M) -> dict[str, str]:
        """Its routes taken without anyone choosing (field → destination): saved, none
        may lead back to it."""
        return {}

    def check_loops(self, obj: M, fields: Mapping[str, Any]) -> None:
        """Refuse the save when its automatic routes lead back to it (``fields``: what
        the caller changed, where the error belongs)."""
        routes = self.routes(obj)
        if routes:
            refuse_loop(self.itself(obj), routes)

    def written(self, account: Account, obj: M, verb: Verb) -> None:
        """After a create or update is recorded and announced, inside its transaction:
        who else must hear of it (commands for FreeSWITCH's nodes)."""

    def deleting(self, account: Account, obj: M) -> Callable[[], None] | None:
        """Just before the locked row goes (nothing uses it): may return what to do once
        the delete is recorded and announced, from what the row held."""
        return None

    def describe(self, obj: M, verb: Verb) -> dict[str, Any]:
        """The audit event's details naming ``obj``."""
        names = self.identity[:1] if verb == "update" else self.identity
        return {name: getattr(obj, name) for name in names}

    # --- the shared part -------------------------------------------------------------------

    def itself(self, obj: M) -> Destination | None:
        """The destination that names ``obj`` (None before it is saved)."""
        return Destination(self.kind, str(obj.pk)) if self.kind and obj.pk is not None else None

    def owner(self, value: Any) -> int | None:
        """The extension's primary key an owner field's value names (None: none, or not a
        key, which only an admin may then send on to be refused as a field error)."""
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, bool):
            return None
        if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
            return int(value)
        return None

    def _authorize(self, actor: User | None, account: Account, obj: M | None,
                   fields: Mapping[str, Any] | None = None) -> None:
        """The checkpoint for ``obj`` as stored (None: a new one) and for the owner
        ``fields`` ask for."""
        if not self.owner_field:
            authorize(actor, account, roles=self.writers)
            return
        if obj is not None:
            authorize(actor, account, extension_pk=getattr(obj, f"{self.owner_field}_id"),
                      roles=self.writers)
        if fields is not None and (obj is None or self.owner_field in fields):
            authorize(actor, account, extension_pk=self.owner(fields.get(self.owner_field)),
                      roles=self.writers)

    @transaction.atomic
    def create(self, account: Account, *, actor: User | None, ip: str | None = None,
               **fields: Any) -> M:
        self._authorize(actor, account, None, fields)
        only(fields, self.fields)
        with schema_context(account.schema_name):
            obj = self.model()
            self.apply(obj, fields)
            self._validate(account, obj, fields, new_number=True)
            obj.save()
        self._done(account, obj, "create", actor=actor, ip=ip)
        self.written(account, obj, "create")
        return obj

    @transaction.atomic
    def update(self, account: Account, obj: M, *, actor: User | None, ip: str | None = None,
               **fields: Any) -> M:
        self._authorize(actor, account, obj, fields)
        only(fields, self.fields)
        with schema_context(account.schema_name):
            obj = self.model.objects.select_for_update().get(pk=obj.pk)
            self._authorize(actor, account, obj)  # the stored row decides
            old_number = obj.number if self.numbered else None
            self.apply(obj, fields)
            self._validate(account, obj, fields,
                           new_number=self.numbered and obj.number != old_number)
            obj.save()
        self._done(account, obj, "update", actor=actor, ip=ip, fields=sorted(fields))
        self.written(account, obj, "update")
        return obj

    @transaction.atomic
    def delete(self, account: Account, obj: M, *, actor: User | None, ip: str | None = None) -> None:
        self._authorize(actor, account, obj)
        with schema_context(account.schema_name):
            obj = self.model.objects.select_for_update().get(pk=obj.pk)
            self._authorize(actor, account, obj)  # the stored row decides
            if self.kind is not None:
                refuse_if_used(obj, account=account, ignore=self._goes_with(obj))
            then = self.deleting(account, obj)
            details = self.describe(obj, "delete")
            obj.delete()
        record(actor, account, f"{self.audit_name}.delete", ip=ip, **details)
        changed(account, index=self.index)
        if then is not None:
            then()

    def _validate(self, account: Account, obj: M, fields: Mapping[str, Any], *,
                  new_number: bool) -> None:
        if self.numbered and new_number:
            refuse_taken(obj.number, exclude=obj if obj.pk is not None else None, account=account)
        self.prepare(account, obj)
        obj.full_clean()
        self.check(account, obj, fields)
        # A new object: nothing routes to it yet, so it cannot close a loop.
        if obj.pk is not None:
            self.check_loops(obj, fields)

    def _done(self, account: Account, obj: M, verb: Verb, *, actor: User | None,
              ip: str | None, **extra: Any) -> None:
        record(actor, account, f"{self.audit_name}.{verb}", ip=ip, **self.describe(obj, verb), **extra)
        changed(account, index=self.index)

    def _goes_with(self, obj: M) -> Callable[[models.Model], bool]:
        parts = self.parts

        def deleted_together(holder: models.Model) -> bool:
            return any(isinstance(holder, model) and getattr(holder, f"{key}_id") == obj.pk
                       for model, key in parts)

        return deleted_together
