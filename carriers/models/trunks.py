"""Trunks (carriers) and their gateways.

They live in the public schema although an account owns each one: FreeSWITCH's
``sofia.conf`` lists every gateway of every account at once, and an account without
trunks of its own uses the nearest ancestor's ("Parent" vs "Local"), so the lookup walks
the account tree, which is public too.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from carriers.validators import (
    validate_caller_id_number,
    validate_dial_prefix,
    validate_pattern,
    validate_patterns,
    validate_ping_interval,
)
from tenants.validators import validate_domain_name, validate_printable, validate_region


class Codec(models.TextChoices):
    PCMU = "PCMU", "G.711 µ-law (PCMU)"
    PCMA = "PCMA", "G.711 A-law (PCMA)"
    G722 = "G722", "G.722"
    G729 = "G729", "G.729"
    OPUS = "OPUS", "Opus"


class Transport(models.TextChoices):
    UDP = "udp", "UDP"
    TCP = "tcp", "TCP"
    TLS = "tls", "TLS"


class NumberFormat(models.TextChoices):
    """How a trunk sends the number when its rule has no group (or it has no rules)."""

    E164_DIGITS = "e164_digits", "E.164 without + (14165550199)"
    E164 = "e164", "E.164 with + (+14165550199)"
    NATIONAL = "national", "As dialed in the trunk's country (02079460000 in GB; abroad 00…)"


class Trunk(models.Model):
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="trunks")
    name = models.CharField(max_length=100, validators=[validate_printable])
    enabled = models.BooleanField(default=True)
    emergency = models.BooleanField(
        default=False,
        help_text="Carries emergency calls. Emergency calls go to these trunks first, "
                  "whatever their rules.",
    )
    rules = ArrayField(
        models.CharField(max_length=200, validators=[validate_pattern]), default=list, blank=True,
        validators=[validate_patterns],
        help_text="Regular expressions on the dialed number in E.164 (e.g. ^\\+(1\\d{10})$). "
                  "The first group, if any, is what is sent. No rules: every number.",
    )
    number_format = models.CharField(
        max_length=12, choices=NumberFormat.choices, default=NumberFormat.E164_DIGITS,
        help_text="What is sent when the matching rule has no group (or there are no rules); "
                  "the gateway's prefix goes before it. A rule's group is sent as captured.",
    )
    national_country = models.CharField(
        "country of the national format", max_length=2, blank=True, validators=[validate_region],
        help_text="For the national format: e.g. GB sends 02079460000, and 0014165550199 abroad.",
    )
    weight_cost = models.PositiveSmallIntegerField(
        default=50, validators=[MaxValueValidator(100)], help_text="Lower is tried first."
    )
    caller_id_regex = models.CharField(
        "caller ID pattern", max_length=200, blank=True, validators=[validate_pattern],
        help_text="Keeps the groups of a matching caller ID, e.g. ^\\+?66(\\d{5,})$.",
    )
    caller_id_prefix = models.CharField(
        "caller ID prefix", max_length=11, blank=True, validators=[validate_dial_prefix],
        help_text="Put before the kept digits, e.g. 0.",
    )
    caller_id_value = models.CharField(
        "fixed caller ID", max_length=16, blank=True, validators=[validate_caller_id_number],
        help_text="Send this caller ID on every call through the trunk.",
    )
    send_asserted_identity = models.BooleanField(
        "send P-Asserted-Identity", default=False,
        help_text="The carrier wants the caller ID in a P-Asserted-Identity header too "
                  "(FreeSWITCH's caller-ID type pid); otherwise the profile's (Remote-Party-ID).",
    )
    ping_interval = models.PositiveSmallIntegerField(
        "ping every (seconds)", default=0, validators=[validate_ping_interval, MaxValueValidator(3600)],
        help_text="SIP OPTIONS to each gateway; an unanswered gateway is skipped until it answers "
                  "again. 0: no pings (the gateway always counts as up). Only for carriers that "
                  "answer OPTIONS.",
    )
    ping_failures = models.PositiveSmallIntegerField(
        "down after (unanswered pings)", default=3, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Unanswered pings in a row that mark a gateway down, once it has answered as many "
                  "(a gateway that never answered is down at its first unanswered ping); one "
                  "answer brings it back.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["weight_cost", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="trunk_name_unique_per_account"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.number_format == NumberFormat.NATIONAL and not self.national_country:
            raise ValidationError({"national_country": ["The national format needs the trunk's country."]})

    @property
    def sofia_ping_params(self) -> dict[str, str]:
        """The gateway params that make sofia ping (sofia.c, sofia_handle_sip_r_options):
        every answer (any status but 408, 503 and 6xx) adds one to a count kept between 0
        and ``ping-max``, every failure takes one away, and the gateway is down while the
        count is below ``ping-min``. Starting from 0, ``ping-min`` 1 and ``ping-max`` N:
        up at the first answer, down after N failures in a row once it answered N times."""
        if not self.ping_interval:
            return {}
        return {"ping": str(self.ping_interval), "ping-min": "1", "ping-max": str(self.ping_failures)}


class Gateway(models.Model):
    trunk = models.ForeignKey(Trunk, on_delete=models.CASCADE, related_name="gateways")
    position = models.PositiveSmallIntegerField(default=0, help_text="Tried in this order.")
    server = models.CharField(max_length=253, validators=[validate_domain_name],
                              help_text="Host name or IP address of the carrier.")
    port = models.PositiveIntegerField(
        default=5060, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    transport = models.CharField(max_length=3, choices=Transport.choices, default=Transport.UDP)
    realm = models.CharField(max_length=253, blank=True, validators=[validate_domain_name],
                             help_text="Empty: the server.")
    username = models.CharField(max_length=64, blank=True, validators=[validate_printable])
    password_encrypted = models.TextField(blank=True)
    register = models.BooleanField(default=False, help_text="Register with the carrier.")
    codecs = ArrayField(
        models.CharField(max_length=8, choices=Codec.choices), default=list, blank=True,
        help_text="Offered in this order. Empty: the profile's codecs.",
    )
    prefix = models.CharField(max_length=11, blank=True, validators=[validate_dial_prefix],
                              help_text="Put before the number sent to this gateway.")
    progress_timeout = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(2), MaxValueValidator(120)],
        help_text="Seconds to wait for the carrier to ring before trying the next gateway.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["trunk", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.trunk.name}: {self.server}"

    @property
    def freeswitch_name(self) -> str:
        """The gateway's name in FreeSWITCH: stable, unique platform-wide, and free of
        anything an admin typed."""
        return f"gw{self.pk}"
