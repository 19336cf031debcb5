from __future__ import annotations

from django.db.models import CharField, IntegerField, OuterRef, Subquery
from django.db.models.functions import Length, Substr
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from switchboard.api.serializers import ActionSerializer
from tenants.actions import EDITABLE_ACCOUNT_FIELDS
from tenants.models import Account


def with_parent(queryset):
    """Accounts with ``parent_id`` (the tree is a materialized path: the parent is the
    account whose path is one step shorter), and their domains, in one query plus one."""
    parent = Account.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Account.steplen,
                    output_field=CharField()),
    ).values("pk")[:1]
    return queryset.annotate(parent_id=Subquery(parent, output_field=IntegerField())
                             ).prefetch_related("domains")


class AccountSerializer(ActionSerializer):
    parent = serializers.SerializerMethodField(help_text="The account above; null for the master.")
    domain = serializers.SerializerMethodField(help_text="The primary domain (the SIP realm).")
    aliases = serializers.SerializerMethodField(help_text="The other domains.")

    class Meta:
        model = Account
        fields = ["id", "name", "kind", "status", "parent", "depth", "domain", "aliases",
                  *[f for f in EDITABLE_ACCOUNT_FIELDS if f != "name"], "trunk_source",
                  "created_at", "updated_at"]
        read_only_fields = ["kind", "status", "depth", "trunk_source", "created_at", "updated_at"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_parent(self, account: Account) -> int | None:
        return getattr(account, "parent_id", None)

    def get_domain(self, account: Account) -> str:
        return next((d.domain for d in account.domains.all() if d.is_primary), "")

    def get_aliases(self, account: Account) -> list[str]:
        return [d.domain for d in account.domains.all() if not d.is_primary]


class AdminUserSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    email = serializers.EmailField(required=False, allow_blank=True)


class NewAccountSerializer(AccountSerializer):
    """A sub-account: its domain (and aliases) and optionally its first admin."""

    kind = serializers.ChoiceField(choices=[Account.Kind.CUSTOMER, Account.Kind.RESELLER],
                                   default=Account.Kind.CUSTOMER)
    domain = serializers.CharField(max_length=253, help_text="The primary domain (the SIP realm).")
    aliases = serializers.ListField(child=serializers.CharField(max_length=253), required=False,
                                    max_length=50)
    admin_user = AdminUserSerializer(required=False, write_only=True,
                                     help_text="The account's first admin.")

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "admin_user"]
        read_only_fields = ["status", "depth", "trunk_source", "created_at", "updated_at"]


class AccountNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Account.Kind.choices)
    status = serializers.ChoiceField(choices=Account.Status.choices)
    children = serializers.ListField(child=serializers.DictField(), help_text="Nodes of the same shape.")


class MoveSerializer(serializers.Serializer):
    parent = serializers.IntegerField(min_value=1, help_text="The new parent account's id (a reseller "
                                                            "or the master).")
