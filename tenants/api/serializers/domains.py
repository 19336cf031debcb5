from __future__ import annotations

from rest_framework import serializers


class DomainsSerializer(serializers.Serializer):
    """An account's domains: the primary one (its SIP realm) and its aliases."""

    domain = serializers.CharField(max_length=253, help_text="The primary domain (the SIP realm).")
    aliases = serializers.ListField(child=serializers.CharField(max_length=253), required=False,
                                    max_length=50, help_text="Other names of the account.")
