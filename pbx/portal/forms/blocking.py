from __future__ import annotations

from pbx.models import CallBlock
from pbx.portal.forms.base import PortalForm


class CallBlockForm(PortalForm):
    class Meta:
        model = CallBlock
        fields = ("pattern", "anonymous", "direction", "comment")
