from __future__ import annotations

from pbx.actions.checks import RINGABLE_KINDS
from pbx.forms.destinations import DestinationFormField
from pbx.models import RingGroup
from pbx.portal.forms.base import DESTINATION_OPTIONS_URL, PortalForm
from switchboard.views.forms import ActionForm


class RingGroupForm(PortalForm):
    class Meta:
        model = RingGroup
        fields = ("number", "name", "strategy", "ring_seconds", "repeat", "fallback",
                  "caller_id_name_prefix", "pickup_code")


class MemberForm(ActionForm):
    """A member to add: an extension or an outside number."""

    destination = DestinationFormField(kinds=RINGABLE_KINDS, options_url=DESTINATION_OPTIONS_URL,
                                       label="New member", required=True)
