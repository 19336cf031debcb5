"""The public-schema directory index: what a directory user lookup needs, for every tenant,
in one table, so the lookups behind a registration storm never enter a tenant schema (at
1,000 tenants, loading a schema's catalog entries cost more than the queries themselves;
docs/benchmarks.md). The rows are copies, kept by fsconf.directory_index inside the
transaction of every PBX write (the rows of what the write changed); the tenant's tables
stay the truth."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class DirectoryEntry(models.Model):
    """One name FreeSWITCH may look up as a directory user in one tenant, with the
    extension and voicemail box facts its document is built from. A name can be a
    device's SIP username, an extension number and a box number at once (kinds), and the
    lookup takes the lowest kind, as the tenant-schema lookup ranks them.

    Strings are text, not the PBX fields' lengths: the index never refuses what the PBX
    model accepted. NULL means "none" (a box-only user has no extension facts, a user
    without a box no ``vm_*``), as the tenant-schema lookup's outer joins return them,
    hence the nullable text fields."""

    class Kind(models.IntegerChoices):
        DEVICE = 0, "enabled device of an enabled extension"
        EXTENSION = 1, "enabled extension"
        VOICEMAIL_BOX = 2, "standalone voicemail box"

    # No index of its own: the unique constraint below starts with it.
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    user_id = models.TextField()
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    # As stored in the tenant (common.secrets): the index holds no plaintext.
    device_secret = models.TextField(null=True)  # noqa: DJ001
    # The extension (a pk in the tenant's schema), None for a standalone box.
    extension_id = models.BigIntegerField(null=True)
    number = models.TextField(null=True)  # noqa: DJ001
    name = models.TextField(null=True)  # noqa: DJ001
    outbound_caller_id_name = models.TextField(null=True)  # noqa: DJ001
    outbound_caller_id_number = models.TextField(null=True)  # noqa: DJ001
    language = models.TextField(null=True)  # noqa: DJ001
    timezone = models.TextField(null=True)  # noqa: DJ001
    ring_seconds = models.PositiveSmallIntegerField(null=True)
    voicemail_enabled = models.BooleanField(null=True)
    call_permission = models.TextField(null=True)  # noqa: DJ001
    allow_premium_rate = models.BooleanField(null=True)
    call_groups = ArrayField(models.TextField(), null=True)
    emergency_callback_number = models.TextField(null=True)  # noqa: DJ001
    # The extension's enabled devices' usernames, in username order (its dial-string).
    siblings = ArrayField(models.TextField(), null=True)
    # The box: the extension's own, or the standalone box itself; None without one.
    vm_number = models.TextField(null=True)  # noqa: DJ001
    vm_pin = models.TextField(null=True)  # noqa: DJ001
    vm_email = models.TextField(null=True)  # noqa: DJ001
    vm_sms_email = models.TextField(null=True)  # noqa: DJ001
    vm_delete_after_email = models.BooleanField(null=True)
    vm_skip_instructions = models.BooleanField(null=True)
    vm_enabled = models.BooleanField(null=True)
    # Extension rows only: the extension row as the dialplan's routing reads it
    # (pbx.routing._EXTENSION_SQL: its columns, its enabled box, its active follow-me), so
    # a call to an extension is planned without entering the tenant's schema.
    route_facts = models.JSONField(null=True)

    class Meta:
        constraints = [
            # Also the lookup's index: (tenant, name) then the kind that wins.
            models.UniqueConstraint(fields=["account", "user_id", "kind"], name="fsconf_directory_user"),
        ]
        indexes = [
            # A route names an extension by primary key (a DID to extension:<pk>), and a
            # write replaces the rows of the extensions it changed (every kind).
            models.Index(fields=["account", "extension_id"], name="fsconf_directory_ext_rows"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.get_kind_display()})"


class TenantFacts(models.Model):
    """Per account, what the dialplan reads besides extensions, copied like the entries:
    the call blocks (pbx.models.CallBlock rows as JSON, by pattern)."""

    account = models.OneToOneField("tenants.Account", on_delete=models.CASCADE, related_name="+",
                                   primary_key=True)
    call_blocks = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"routing facts of account {self.account_id}"
