from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenants.models import ApiKey, Role, User
from tenants.models.apikeys import TOKEN_START

KEY_STATES = ["active", "expired", "revoked"]
ROLE_HELP = "What the user may do: " + "; ".join(f"{value}: {label}" for value, label in Role.choices) + "."


class StaffUserSerializer(serializers.ModelSerializer):
    """A person who signs in to the account (portal, admin) or acts through API keys."""

    # Every role the model has, so one added there is offered here without a change.
    role = serializers.ChoiceField(choices=Role.choices, help_text=ROLE_HELP)
    extension = serializers.IntegerField(source="extension_pk", read_only=True, allow_null=True,
                                         help_text="An end user's extension (its id in this account).")

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "is_active", "extension",
                  "last_login", "date_joined"]
        read_only_fields = ["username", "is_active", "last_login", "date_joined"]
        extra_kwargs = {"is_active": {"help_text": "Changed with …/activate/ and …/deactivate/."}}


class NewStaffUserSerializer(StaffUserSerializer):
    username = serializers.CharField(max_length=150, help_text="Unique on the platform.")
    password = serializers.CharField(write_only=True, style={"input_type": "password"},
                                     help_text="Checked against the password rules; never shown.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ADMIN, help_text=ROLE_HELP)

    class Meta(StaffUserSerializer.Meta):
        fields = [*StaffUserSerializer.Meta.fields, "password"]
        read_only_fields = ["is_active", "last_login", "date_joined"]


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"},
                                     help_text="The new password (the user's sessions end).")


class ApiKeySerializer(serializers.ModelSerializer):
    key = serializers.SerializerMethodField(help_text=f"How the key starts ({TOKEN_START}<prefix>_…); the "
                                                      "whole token is shown once, when made.")
    state = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key", "read_only", "expires_at", "state", "created_at", "created_by",
                  "last_used_at", "revoked_at"]
        read_only_fields = ["created_at", "last_used_at", "revoked_at"]

    def get_key(self, key: ApiKey) -> str:
        return key.shown_prefix

    @extend_schema_field(serializers.ChoiceField(choices=KEY_STATES, help_text="Whether it works now."))
    def get_state(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "active" if key.is_usable() else "expired"


class ApiKeyWithTokenSerializer(ApiKeySerializer):
    token = serializers.CharField(read_only=True, help_text="The key itself: shown in this answer only "
                                                            "(only its hash is kept).")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
