"""Find-me/follow-me as a plan (seeds 000-003): which steps ring which legs for how long,
whether active hours skip them, and where the call goes after. The call-control app
(``callcontrol/apps/followme.py``) executes this plan and the route explainer describes
it, so the two read the same decisions."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django_tenants.utils import schema_context

from pbx.models.destinations import Destination, DestinationKind
from pbx.ringing import phone_legs

log = logging.getLogger("pbx.followme")

# FreeSWITCH's US ringback tone, heard while the steps ring unless a hold-music group is set.
RINGBACK = "%(2000,4000,440,480)"

_CARRIER_LEG = re.compile(r"^\[([^\]]*)\](.+)$")


@dataclass(frozen=True)
class Leg:
    endpoint: str  # ${sofia_contact(*/1001@acme.example.net)}, sofia/gateway/gw3/+1555...
    variables: dict[str, str]
    external: bool


@dataclass(frozen=True)
class Step:
    ring_seconds: int
    confirm: bool
    legs: list[Leg]


@dataclass
class Plan:
    enabled: bool
    closed: bool
    record_name: bool
    offer_voicemail: bool
    ignore_busy: bool
    ringback: str
    fallback: str
    voicemail: str  # the extension's box as a destination ("" for none)
    steps: list[Step] = field(default_factory=list)
    # Whose follow-me: outside numbers (steps, an outside fallback) are called with its
    # permission, not the account's.
    extension_pk: int | None = None


def _schedule_closed(schedule, account, at: datetime) -> bool:
    from pbx.schedules import evaluate

    return evaluate(schedule, at, default_timezone=account.timezone).action != "open"


def _external_leg(tenancy, extension, number: str) -> Leg | None:
    """The outside ``number`` of ``extension``'s follow-me as one carrier leg: called with
    the extension's own permission and our Diversion (pbx.routing.forward_out)."""
    from pbx.routing import Outbound, Plan, forward_out

    route = forward_out(tenancy, extension, number, Plan(), forward="follow_me")
    if not isinstance(route.final, Outbound):
        why = route.steps[-1].text if route.steps else "refused"
        log.info("follow-me target %s left out: %s", number, why)
        return None
    first = route.final.bridge.split("|")[0]
    ours = {"sip_h_Diversion": route.final.diversion} if route.final.diversion else {}
    match = _CARRIER_LEG.match(first)
    if match is None:
        return Leg(first, ours, True)
    variables = dict(item.split("=", 1) for item in match[1].split(",") if "=" in item)
    return Leg(match[2], {**variables, **ours}, True)


def plan_follow_me(tenancy, pk: int, *, at: datetime, rate: int = 8000) -> Plan | None:
    """The follow-me ``pk`` of ``tenancy`` (a pbx.routing.Tenancy) as it would run at
    ``at`` on a channel at ``rate`` Hz; None when it does not exist."""
    from pbx.media import playable_path
    from pbx.models import Extension, FollowMe
    from pbx.routing import tenant_domains

    with schema_context(tenancy.account.schema_name):
        follow_me = (FollowMe.objects.select_related("extension", "active_hours", "moh_group")
                     .filter(pk=pk).first())
        if follow_me is None:
            return None
        extension = follow_me.extension
        box = getattr(extension, "voicemail_box", None)
        voicemail = (str(Destination(DestinationKind.VOICEMAIL, str(box.pk)))
                     if box is not None and box.enabled and extension.voicemail_enabled else "")
        schedule = follow_me.active_hours
        plan = Plan(
            enabled=follow_me.enabled and extension.enabled,
            closed=schedule is not None and _schedule_closed(schedule, tenancy.account, at),
            record_name=follow_me.record_name, offer_voicemail=follow_me.offer_voicemail,
            ignore_busy=follow_me.ignore_busy,
            ringback=((playable_path(follow_me.moh_group, rate) or "") if follow_me.moh_group_id
                      else RINGBACK),
            fallback=follow_me.fallback, voicemail=voicemail, extension_pk=extension.pk,
        )
        steps = list(follow_me.steps.prefetch_related("targets"))
        targets = [Destination.parse(t.destination) for s in steps for t in s.targets.all()]
        phones = {pk: (number, usernames or []) for pk, number, usernames in Extension.objects.filter(
            pk__in=[d.pk for d in targets if d.kind == DestinationKind.EXTENSION], enabled=True,
        ).annotate(usernames=ArrayAgg("devices__username", filter=Q(devices__enabled=True),
                                      order_by="devices__username"),
                   ).values_list("pk", "number", "usernames")}
        for step in steps:
            legs = []
            for item in step.targets.all():
                target = Destination.parse(item.destination)
                if target.kind == DestinationKind.EXTENSION and target.pk in phones:
                    # Every device on every domain: one leg each (pbx.ringing).
                    number, usernames = phones[target.pk]
                    legs += [Leg(endpoint, variables, False) for endpoint, variables
                             in phone_legs(number, usernames, tenant_domains(tenancy))]
                elif target.kind == DestinationKind.EXTERNAL:
                    leg = _external_leg(tenancy, extension, target.ref)
                    if leg is not None:
                        legs.append(leg)
            if legs:
                plan.steps.append(Step(step.ring_seconds, step.confirm, legs))
    return plan
