"""Every place a call can be sent is one kind of destination, stored the same way
everywhere (a number's route, an IVR key, a forward, a ring group's fallback, a schedule
event): ``kind`` or ``kind:ref`` in one column, where ``ref`` is the primary key of a
row in the tenant's schema (so renumbering an extension breaks no route) or, for an
external number, the number in E.164.

One column rather than a generic foreign key: a route must be readable by the dialplan
in the same query as the object holding it, and "who uses this?" is one equality filter
per destination column (``pbx.references``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models


class DestinationKind(models.TextChoices):
    EXTENSION = "extension", "Extension"
    VOICEMAIL = "voicemail", "Voicemail box"
    RING_GROUP = "ring_group", "Ring group"
    IVR = "ivr", "Auto attendant (IVR)"
    SCHEDULE = "schedule", "Schedule"
    CONFERENCE = "conference", "Conference room"
    CONFERENCE_HUB = "conference_hub", "Conference hub (asks for the room)"
    QUEUE = "queue", "Call queue"
    EXTERNAL = "external", "External number"
    DIRECTORY = "directory", "Company directory"
    CHECK_VOICEMAIL = "check_voicemail", "Check voicemail"
    HANGUP = "hangup", "Hang up"


# Kinds whose ref is a row of the tenant's schema, and the model holding it.
OBJECT_KINDS = {
    DestinationKind.EXTENSION: "pbx.Extension",
    DestinationKind.VOICEMAIL: "pbx.VoicemailBox",
    DestinationKind.RING_GROUP: "pbx.RingGroup",
    DestinationKind.IVR: "pbx.Ivr",
    DestinationKind.SCHEDULE: "pbx.Schedule",
    DestinationKind.CONFERENCE: "pbx.ConferenceRoom",
    DestinationKind.QUEUE: "pbx.CallQueue",
}
# Kinds that need no ref.
BARE_KINDS = {DestinationKind.CONFERENCE_HUB, DestinationKind.DIRECTORY,
              DestinationKind.CHECK_VOICEMAIL, DestinationKind.HANGUP}


TRANSFER_PREFIX = "~"


@dataclass(frozen=True)
class Destination:
    kind: str
    ref: str = ""

    @classmethod
    def parse(cls, value: str) -> Destination:
        """The destination stored as ``value``; raises ValidationError for anything that
        is not one (syntax only: whether the object exists is the actions' check)."""
        kind, _, ref = (value or "").partition(":")
        if kind not in DestinationKind.values:
            raise ValidationError("Choose where calls go.", code="invalid_destination")
        if kind in OBJECT_KINDS and not ref.isdigit():
            raise ValidationError("Choose which %(kind)s calls go to.", code="invalid_destination",
                                  params={"kind": DestinationKind(kind).label.lower()})
        if kind == DestinationKind.EXTERNAL:
            from tenants.validators import validate_e164

            if not ref.startswith("+"):
                raise ValidationError("Write the external number in E.164 form (+…).",
                                      code="invalid_destination")
            validate_e164(ref)
        if kind in BARE_KINDS and ref and kind != DestinationKind.HANGUP:
            raise ValidationError("This destination takes no target.", code="invalid_destination")
        return cls(kind, ref)

    @property
    def transfer_number(self) -> str:
        """The destination_number that reaches this destination inside the tenant's
        context: what call-control apps and follow-on dialplan steps transfer to, so
        every route runs through the same dialplan code."""
        return f"{TRANSFER_PREFIX}{self}"

    @classmethod
    def from_transfer_number(cls, number: str) -> Destination | None:
        if not number.startswith(TRANSFER_PREFIX):
            return None
        try:
            return cls.parse(number[len(TRANSFER_PREFIX):])
        except ValidationError:
            return None

    @property
    def pk(self) -> int | None:
        return int(self.ref) if self.kind in OBJECT_KINDS else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}" if self.ref else self.kind


def validate_destination(value: str) -> None:
    if value:
        Destination.parse(value)


class DestinationField(models.CharField):
    """A destination, stored as ``kind[:ref]``; empty means "none"."""

    default_validators = [validate_destination]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, default in (("max_length", 40), ("blank", True), ("default", "")):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs
