"""Call blocks (a number, a prefix, or anonymous callers) of the whole account or of one
extension, listed and filtered by that scope."""

from __future__ import annotations

from typing import Any

from django import forms

from pbx.actions.blocking import do_add_call_block, do_remove_call_block, do_update_call_block
from pbx.filtersets import CallBlockFilterSet
from pbx.models import CallBlock
from pbx.portal.forms.blocking import CallBlockForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView
from switchboard.views import Column


class _CallBlockPages:
    model = CallBlock
    verbose_name = "call block"
    verbose_name_plural = "call blocks"
    list_url_name = "portal:call-block-list"
    create_url_name = "portal:call-block-create"
    edit_url_name = "portal:call-block-edit"
    delete_url_name = "portal:call-block-delete"


def scope(block: CallBlock) -> str:
    return f"Extension {block.extension}" if block.extension_id is not None else "Whole account"


class CallBlockListView(_CallBlockPages, PortalListView):
    filterset_class = CallBlockFilterSet
    template_name = "portal/call_block_list.html"
    columns = (
        Column("pattern", "Blocks", link=True, render=str),
        Column("direction", "Calls"),
        Column("extension", "For", render=scope),
        Column("comment", "Why"),
    )

    def get_queryset(self):
        return CallBlock.objects.select_related("extension").order_by("pattern", "pk")


class CallBlockEditView(_CallBlockPages, PortalEditView):
    form_class = CallBlockForm

    def build_form(self, obj: CallBlock | None, data: Any = None) -> forms.Form:
        """A new block from an extension's page (``?extension=<id>``) starts as its own."""
        form = super().build_form(obj, data)
        wanted = self.request.GET.get("extension", "")
        if obj is None and data is None and wanted.isascii() and wanted.isdigit():
            form.initial["extension"] = int(wanted)
        return form

    def create(self, form: forms.Form) -> CallBlock:
        return do_add_call_block(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: CallBlock, form: forms.Form) -> CallBlock:
        return do_update_call_block(self.identity.account, obj, **self.writer, **self.changed_values(form))


class CallBlockDeleteView(_CallBlockPages, PortalDeleteView):
    def delete(self, obj: CallBlock) -> None:
        do_remove_call_block(self.identity.account, obj, **self.writer)
