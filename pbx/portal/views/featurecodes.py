"""The star codes a tenant's phones can dial, read from the dialplan's own tables in
``pbx.routing`` (and the ring groups' pickup codes from the tenant's rows), so the list
cannot drift from what the dialplan answers. Read-only for every role."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pbx.models import RingGroup
from pbx.numbering import PICKUP_PREFIX
from pbx.portal.views.base import PortalPage
from pbx.routing import (
    AGENT_CODES,
    CHECK_ANY_VOICEMAIL,
    CHECK_OWN_VOICEMAIL,
    FORWARD_ON_CODES,
    SWITCH_CODES,
)

# Words for the actions the tables name; an action added there without words here is
# still listed (by its name), and tests/pbx/portal/test_featurecodes.py asks for words.
FORWARD_WORDS = {"all": "all calls", "busy": "calls while busy (and on do-not-disturb)",
                 "no_answer": "unanswered calls"}
SWITCH_WORDS = {"all_off": "Forwarding of all calls off (the number stays stored)",
                "busy_off": "Forwarding while busy off (the number stays stored)",
                "no_answer_off": "Forwarding of unanswered calls off (the number stays stored)",
                "dnd_on": "Do not disturb on", "dnd_off": "Do not disturb off"}
AGENT_WORDS = {"login": "Call-queue agent: log in (queues where the agent logs in with *62)",
               "logout": "Call-queue agent: log out", "pause": "Call-queue agent: pause (every queue)",
               "unpause": "Call-queue agent: ready again (every queue)"}


@dataclass(frozen=True)
class Code:
    code: str
    does: str
    group: str


def feature_codes() -> list[Code]:
    """Every code the dialplan knows, in the order a person reads them."""
    codes = [Code(CHECK_OWN_VOICEMAIL, "Your own voicemail (the phone's box)", "Voicemail"),
             Code(CHECK_ANY_VOICEMAIL, "Any voicemail box (asks for its number and PIN)", "Voicemail")]
    for code, action in FORWARD_ON_CODES.items():
        codes.append(Code(f"{code}<number>", f"Forward {FORWARD_WORDS.get(action, action)} to the number "
                      f"(dialed alone it asks for the number, # ends it)", "Forwarding"))
    codes += [Code(code, SWITCH_WORDS.get(action, action), "Forwarding")
              for code, action in SWITCH_CODES.items()]
    codes.append(Code(f"{PICKUP_PREFIX}<extension>", "Answer a call ringing that extension", "Pickup"))
    codes += [Code(group.pickup_code, f"Answer a call ringing ring group {group.number} {group.name}",
                   "Pickup")
              for group in RingGroup.objects.exclude(pickup_code="").order_by("pickup_code")]
    codes += [Code(code, AGENT_WORDS.get(action, action), "Call queues")
              for code, action in AGENT_CODES.items()]
    return codes


class FeatureCodeListView(PortalPage):
    verbose_name = "feature code"
    verbose_name_plural = "feature codes"
    list_url_name = "portal:feature-codes"
    template_name = "portal/feature_codes.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.context(codes=feature_codes()))
