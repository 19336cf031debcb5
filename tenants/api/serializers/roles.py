from __future__ import annotations

from rest_framework import serializers

from tenants.api.roles import CODES
from tenants.models import Role


class CapabilitySerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=CODES, help_text="What the role may do, by name.")
    text = serializers.CharField(help_text="The same in words.")


class RoleSerializer(serializers.Serializer):
    # The same choices as a staff user's ``role`` (one enum in the document).
    role = serializers.ChoiceField(choices=Role.choices, help_text="The value a staff user's role takes.")
    label = serializers.CharField(help_text="The role's name, as the admin and the portal show it.")
    description = serializers.CharField()
    may = CapabilitySerializer(many=True, help_text=(
        "Everything the role may do, read off the checks the actions make (tenants/api/roles.py); "
        "within the account of the user and the accounts below it."))
