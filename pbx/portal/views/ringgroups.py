"""Ring groups and their members, rung in the order shown: moved with up/down buttons
(each one POST, so it works from the keyboard and without JavaScript) or dragged, which
posts the whole new order to the same action (``pbx/static/portal/reorder.js``; the list
is ``pbx.portal.views.ordering``'s, shared with the hold-music tracks)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from pbx.actions.ringgroups import (
    Member,
    do_create_ring_group,
    do_delete_ring_group,
    do_set_ring_group_members,
    do_update_ring_group,
)
from pbx.destinations import describe
from pbx.filtersets import RingGroupFilterSet
from pbx.models import RingGroup
from pbx.portal.forms.ringgroups import MemberForm, RingGroupForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView
from pbx.portal.views.ordering import OrderedItem, OrderedListPage, moved
from switchboard.views import Column


class _RingGroupPages:
    model = RingGroup
    verbose_name = "ring group"
    verbose_name_plural = "ring groups"
    list_url_name = "portal:ring-group-list"
    create_url_name = "portal:ring-group-create"
    edit_url_name = "portal:ring-group-edit"
    delete_url_name = "portal:ring-group-delete"


class RingGroupListView(_RingGroupPages, PortalListView):
    filterset_class = RingGroupFilterSet
    columns = (
        Column("number", "Number", link=True),
        Column("name", "Name"),
        Column("strategy", "Rings"),
        Column("members", "Members", render=lambda group: group.member_count),
        Column("fallback", "If nobody answers", render=lambda group: describe(group.fallback)),
    )

    def get_queryset(self) -> models.QuerySet:
        return RingGroup.objects.annotate(member_count=models.Count("members")).order_by("number")


class RingGroupEditView(_RingGroupPages, PortalEditView):
    form_class = RingGroupForm
    template_name = "portal/ring_group_edit.html"

    def create(self, form: forms.Form) -> RingGroup:
        return do_create_ring_group(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: RingGroup, form: forms.Form) -> RingGroup:
        return do_update_ring_group(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: RingGroup | None, member_form: MemberForm | None = None) -> dict[str, Any]:
        if obj is None:
            return {}
        items = []
        for member in obj.members.all():
            label = describe(member.destination)
            items.append(OrderedItem(label=label if member.enabled else f"{label} (off)", name=label,
                                     toggle="Turn off" if member.enabled else "Turn on"))
        return {"ordered_items": items, "member_form": member_form or MemberForm(),
                "order_url": reverse("portal:ring-group-members", kwargs={"pk": obj.pk})}


class RingGroupDeleteView(_RingGroupPages, PortalDeleteView):
    def delete(self, obj: RingGroup) -> None:
        do_delete_ring_group(self.identity.account, obj, **self.writer)


class RingGroupMembersView(_RingGroupPages, OrderedListPage):
    """One change to the member list (add, up, down, turn off/on, remove, a dragged order), written as
    the whole new list by ``do_set_ring_group_members``; its refusals are shown above
    the list (the section alone for htmx)."""

    edit_view_class = RingGroupEditView
    section_template = "portal/_ring_group_members.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = self.get_object(pk)
        self.authorize(self.identity)
        members: list[Member] = [(m.destination, m.ring_seconds, m.enabled) for m in group.members.all()]
        operation = request.POST.get("operation", "")
        member_form = MemberForm(request.POST if operation == "add" else None)
        try:
            members = self.changed(members, operation, request.POST.get("position", ""), member_form,
                                   request.POST.get("order", ""))
            do_set_ring_group_members(self.identity.account, group, members, **self.writer)
        except ValidationError as error:
            return self.answer(group, error.messages, status=400, member_form=member_form)
        return self.done(group, f"Members of ring group {group} saved.")

    def changed(self, members: list[Member], operation: str, position: str,
                member_form: MemberForm, order: str = "") -> list[Member]:
        if operation == "order":
            # The dragged list: the members' current positions in their new order, which
            # must name each member once (a list changed meanwhile is refused, not guessed).
            wanted = [int(part) for part in order.split(",") if part.strip().isdigit()]
            if sorted(wanted) != list(range(len(members))) or len(wanted) != len(order.split(",")):
                raise ValidationError("The members changed meanwhile; reload the page.")
            return [members[index] for index in wanted]
        if operation == "add":
            if not member_form.is_valid():
                raise ValidationError(member_form.errors.get("destination") or ["Choose a member."])
            return [*members, (member_form.cleaned_data["destination"], None, True)]
        if operation in ("remove", "toggle"):
            if not position.isdigit() or not 0 <= int(position) < len(members):
                raise ValidationError("That member is no longer in the list; reload the page.")
            index = int(position)
            if operation == "toggle":  # a member turned off stays in its place, not rung
                destination, seconds, enabled = members[index]
                return [*members[:index], (destination, seconds, not enabled), *members[index + 1:]]
            return members[:index] + members[index + 1:]
        return moved(members, operation, position, "member")
