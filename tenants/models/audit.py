"""Who did what to which account, and the one-time grants behind "Use account"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, root):
        """The events shown to the staff of ``root`` (an Account): those of the accounts
        below where it happened, while the account is still theirs, each with
        ``actor_inside``: whether the actor belongs to ``root``'s subtree (an actor from
        above is shown only as provider staff, without address). The admin's audit list
        and the API's are this."""
        if root.is_master:
            return self.annotate(actor_inside=models.Value(True, output_field=models.BooleanField()))
        # "Still theirs" as the ids of the accounts below ``root`` now (one small query)
        # rather than a join on the account's path: given a constant, the planner knows how
        # many events a customer has, and a big customer's first page is read from the time
        # index instead of sorting all its events (14 ms instead of 600 ms at 1M events:
        # bench/audit_pages.py, docs/benchmarks.md).
        subtree = list(type(root).objects.subtree_of(root).values_list("pk", flat=True))
        return self.filter(
            scope_path__startswith=root.path, account_id__in=subtree
        ).annotate(actor_inside=models.Case(
            models.When(actor__account__path__startswith=root.path, then=models.Value(True)),
            # Nobody acted (a sign-in lockout, a phone's feature code): nobody to hide. A
            # deleted actor keeps its name and stays hidden.
            models.When(actor__isnull=True, actor_username="", then=models.Value(True)),
            default=models.Value(False), output_field=models.BooleanField(),
        ))


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    account = models.ForeignKey(
        "tenants.Account", null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    account_name = models.CharField(max_length=100, blank=True)
    # Where the account sat in the tree when this happened: an event is shown to the
    # owners of that place, not to whoever owns the account after a move.
    scope_path = models.CharField(max_length=255, blank=True, db_index=True)
    action = models.CharField(max_length=50, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.account_name}"


class MasqueradeGrant(models.Model):
    """A signed link to enter a descendant's portal, usable once and briefly."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant {self.pk} for account {self.account_id}"
