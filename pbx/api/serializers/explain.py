"""The route explainer's question (query parameters) and answer (pbx.explain)."""

from __future__ import annotations

from rest_framework import serializers

from pbx.routing import App, CheckVoicemail, GoTo, Hangup, OnNet, Outbound, Pickup, Queue, Ring, Voicemail

# What the dialplan does at a hop, by the plan's own class (pbx.routing.Final).
OUTCOMES = {Ring: "ring", GoTo: "go_to", Voicemail: "voicemail", CheckVoicemail: "check_voicemail",
            App: "app", Outbound: "outbound", OnNet: "on_net", Hangup: "hangup", Pickup: "pickup",
            Queue: "queue"}


class ExplainQuerySerializer(serializers.Serializer):
    to = serializers.CharField(
        max_length=32, help_text="What is dialed: an extension, a feature code, an outside number, or "
                                 "one of the account's phone numbers.")
    at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the call is made (ISO 8601); without a UTC offset it is read in the account's "
                  "time zone; absent: now.")

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        zone = self.context.get("timezone")
        if zone is not None:
            # A time without an offset is the account's wall clock, as in the portal.
            fields["at"] = serializers.DateTimeField(
                required=False, allow_null=True, default=None, default_timezone=zone,
                help_text=fields["at"].help_text)
        fields["from"] = serializers.CharField(
            required=False, allow_blank=True, max_length=32, default="",
            help_text="An extension's number for a call from inside, or the outside caller's number "
                      "(empty: anonymous) for a call to one of the account's phone numbers.")
        return fields


class HopSerializer(serializers.Serializer):
    depth = serializers.IntegerField(
        help_text="0 for the call's own path; deeper for a branch (\"if busy: …\").")
    rule = serializers.CharField(
        help_text="Which rule decided this hop (caller, block, schedule, ring, forward_busy, outbound, …).")
    text = serializers.CharField(help_text="The decision in words, as the portal shows it.")
    outcome = serializers.ChoiceField(
        choices=sorted(OUTCOMES.values()), allow_null=True,
        help_text="What the dialplan does at this hop, when it ends a lookup: ring, go_to (on to "
                  "destination), voicemail, check_voicemail, app (a call-control app), outbound, "
                  "on_net, hangup, pickup, queue; null for a hop that only explains.")
    destination = serializers.CharField(
        allow_null=True, help_text="For go_to: where the call goes next, as kind:ref (the same "
                                   "destination strings routes are written with).")
    detail = serializers.ListField(
        child=serializers.CharField(), help_text="Particulars, e.g. a follow-me step's legs.")


class ExplainSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="What was dialed.")
    at = serializers.DateTimeField(help_text="The moment explained.")
    hops = HopSerializer(many=True, help_text="Every decision, in the order the call meets them.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(help_text="The caller asked about.")
        return fields


def hop(decision) -> dict:
    final = decision.final
    return {
        "depth": decision.depth, "rule": decision.rule, "text": decision.text,
        "outcome": OUTCOMES.get(type(final)) if final is not None else None,
        "destination": str(final.destination) if isinstance(final, GoTo) else None,
        "detail": list(decision.detail),
    }
