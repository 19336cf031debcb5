"""Accounts (the django-tenants tenant) and their domains.

The hierarchy is a materialized path (django-treebeard ``MP_Node``): ``path`` holds one
4-character step per level, so "all descendants of X" is ``path LIKE 'X.path%'`` — one
index range scan on the ``varchar_pattern_ops`` index below, whatever the depth.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from tenants.validators import (
    default_country,
    validate_e164,
    validate_printable,
    validate_region,
    validate_timezone,
)

LANGUAGES = [
    ("en", "English"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("de", "German"),
    ("pt", "Portuguese"),
    ("it", "Italian"),
    ("nl", "Dutch"),
]


class AccountQuerySet(MP_NodeQuerySet):
    def live(self) -> AccountQuerySet:
        return self.filter(deleted_at__isnull=True)

    def subtree_of(self, account: Account, *, include_self: bool = True) -> AccountQuerySet:
        qs = self.filter(path__startswith=account.path)
        if not include_self:
            qs = qs.exclude(pk=account.pk)
        return qs


class AccountManager(MP_NodeManager.from_queryset(AccountQuerySet)):
    def get_queryset(self) -> AccountQuerySet:
        # MP_NodeManager hard-codes its own queryset class; keep ours (and its order).
        return AccountQuerySet(self.model, using=self._db).order_by("path")


class Account(TenantMixin, MP_Node):
    class Kind(models.TextChoices):
        MASTER = "master", "Master"
        RESELLER = "reseller", "Reseller"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class TrunkSource(models.TextChoices):
        PARENT = "parent", "Parent: the trunks of the account above"
        LOCAL = "local", "Local: this account's own trunks"

    steplen = 4

    name = models.CharField(max_length=100, validators=[validate_printable])
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    max_concurrent_calls = models.PositiveIntegerField(
        default=10, help_text="Simultaneous calls (both directions) this account may have."
    )
    max_extensions = models.PositiveIntegerField(default=50)
    allow_international = models.BooleanField(
        default=False, help_text="Allow outbound calls to international destinations."
    )
    allow_premium_rate = models.BooleanField(
        "allow premium-rate calls", default=False,
        help_text="Allow outbound calls to premium-rate and other revenue-share numbers "
                  "(+1 900, UK 09 and 070, shared-cost ranges); each extension needs it too.",
    )
    outbound_caller_id = models.CharField(
        "default outbound caller ID", max_length=16, blank=True, validators=[validate_e164]
    )
    emergency_caller_id = models.CharField(
        "emergency caller ID", max_length=16, blank=True, validators=[validate_e164]
    )
    country = models.CharField(
        max_length=2, default=default_country, validators=[validate_region],
        help_text="ISO 3166 code (US, CA, GB, ...): how numbers dialed without a + are read.",
    )
    trunk_source = models.CharField(
        "outbound trunks", max_length=6, choices=TrunkSource.choices, default=TrunkSource.PARENT,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Schemas are created by tenants.provisioning (clone of the template schema), never
    # dropped by a plain delete: purging is an explicit command.
    auto_create_schema = True
    auto_drop_schema = False

    objects = AccountManager()

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="account_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="master"), name="one_master_account"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        from tenants.provisioning import create_tenant_schema

        if check_if_exists and schema_exists(self.schema_name):
            return False
        create_tenant_schema(self.schema_name)
        return True

    @property
    def is_master(self) -> bool:
        return self.kind == self.Kind.MASTER

    @property
    def can_have_children(self) -> bool:
        return self.kind in (self.Kind.MASTER, self.Kind.RESELLER)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def ancestor_paths(self) -> list[str]:
        return [self.path[:end] for end in range(self.steplen, len(self.path), self.steplen)]

    def is_within(self, ancestor: Account) -> bool:
        """True when this account is ``ancestor`` or below it."""
        return self.path.startswith(ancestor.path)

    def is_effectively_active(self) -> bool:
        """Active, not deleted, and no ancestor suspended or deleted (one query)."""
        if self.status != self.Status.ACTIVE or self.is_deleted:
            return False
        paths = self.ancestor_paths()
        if not paths:
            return True
        blocked = Account.objects.filter(path__in=paths).filter(
            Q(status=self.Status.SUSPENDED) | Q(deleted_at__isnull=False)
        )
        return not blocked.exists()

    @property
    def primary_domain_name(self) -> str:
        domain = next((d for d in self.domains.all() if d.is_primary), None)
        return domain.domain if domain else ""

    def portal_url(self, path: str = "/") -> str:
        scheme = settings.PORTAL_SCHEME
        port = settings.PORTAL_PORT
        host = self.portal_host()
        default_port = {"http": "80", "https": "443"}[scheme]
        netloc = host if not port or port == default_port else f"{host}:{port}"
        return f"{scheme}://{netloc}{path}"

    def portal_host(self) -> str:
        """The first domain under a platform portal suffix (settings.PORTAL_HOST_SUFFIXES),
        or "" when the account has none. Only such names, which resolve to the platform
        whoever assigned them, may receive masquerade links. For the master (the admin
        host) any of its domains will do."""
        suffixes = tuple(settings.PORTAL_HOST_SUFFIXES)
        names = [d.domain for d in self.domains.all()]
        if self.is_master:
            # The admin's own host: a platform name by definition; prefer a local one.
            local = [n for n in names if n == "localhost" or n.endswith(suffixes)]
            return (local or names or [""])[0]
        return next((n for n in names if n.endswith(suffixes)), "")


class Domain(DomainMixin):
    """A domain of an account: the primary SIP realm, or an alias. The same rows answer
    "which tenant is this portal hostname" and "which tenant owns this SIP realm"."""

    class Meta:
        ordering = ["-is_primary", "domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_primary=True), name="one_primary_domain"
            ),
        ]

    def __str__(self) -> str:
        return self.domain
