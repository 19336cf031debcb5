from __future__ import annotations

from django import forms

from pbx.models import CallBlock, Extension
from pbx.portal.forms.base import PortalForm


class CallBlockForm(PortalForm):
    extension = forms.ModelChoiceField(
        queryset=Extension.objects.order_by("number"), required=False, empty_label="Whole account",
        label="Blocks for",
        help_text="The whole account (calls to its numbers, calls out from every phone), or one "
                  "extension (calls to it, calls out from it; its employee sees it on My phone).")

    class Meta:
        model = CallBlock
        fields = ("pattern", "anonymous", "direction", "comment", "extension")
