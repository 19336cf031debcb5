"""Call queues: the queue's settings on the generic pages, and its agents, written
together by ``do_set_queue_agents`` (which also tells mod_callcenter)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from pbx.actions.queues import (
    QUEUE_WRITERS,
    do_create_queue,
    do_delete_queue,
    do_set_queue_agents,
    do_update_queue,
)
from pbx.destinations import describe
from pbx.filtersets import CallQueueFilterSet
from pbx.models import CallQueue, QueueAgent
from pbx.portal.forms.queues import AgentsForm, CallQueueForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from switchboard.views import Column


class _QueuePages:
    model = CallQueue
    verbose_name = "call queue"
    verbose_name_plural = "call queues"
    list_url_name = "portal:queue-list"
    create_url_name = "portal:queue-create"
    edit_url_name = "portal:queue-edit"
    delete_url_name = "portal:queue-delete"
    writers = QUEUE_WRITERS  # the call-center supervisor too


class CallQueueListView(_QueuePages, PortalListView):
    filterset_class = CallQueueFilterSet
    columns = (
        Column("number", "Number", link=True),
        Column("name", "Name"),
        Column("strategy", "Offers calls to"),
        Column("agents", "Agents", render=lambda queue: queue.agent_count),
        Column("fallback", "When the wait is over", render=lambda queue: describe(queue.fallback)),
    )

    def get_queryset(self) -> models.QuerySet:
        return CallQueue.objects.annotate(agent_count=models.Count("agents")).order_by("number")


def _members(queue: CallQueue) -> list[QueueAgent]:
    return list(queue.agents.select_related("extension").order_by("level", "position", "id"))


class CallQueueEditView(_QueuePages, PortalEditView):
    form_class = CallQueueForm
    template_name = "portal/queue_edit.html"

    def create(self, form: forms.Form) -> CallQueue:
        return do_create_queue(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: CallQueue, form: forms.Form) -> CallQueue:
        return do_update_queue(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: CallQueue | None, agents_form: AgentsForm | None = None) -> dict[str, Any]:
        if obj is None:
            return {}
        if agents_form is None:
            agents_form = AgentsForm(members=_members(obj), label_suffix="")
            if not self.may_write:
                for field in agents_form.fields.values():
                    field.disabled = True
        return {"agents_form": agents_form}


class CallQueueDeleteView(_QueuePages, PortalDeleteView):
    def delete(self, obj: CallQueue) -> None:
        do_delete_queue(self.identity.account, obj, **self.writer)


class CallQueueAgentsView(_QueuePages, PortalPage):
    """POST: the queue's whole agent list (tiers, logins, removals, one addition)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        queue = self.get_object(pk)
        self.authorize(self.identity)
        form = AgentsForm(request.POST, members=_members(queue))
        if form.is_valid():
            try:
                do_set_queue_agents(self.identity.account, queue, form.agents(), **self.writer)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, f"Agents of call queue {queue} saved.")
                return redirect(self.url(self.edit_url_name, queue))
        edit = CallQueueEditView()
        edit.setup(request, pk=pk)
        edit.identity = self.identity
        return render(request, edit.template_name, edit.context(
            object=queue, form=edit.build_form(queue), delete_url=edit.url(edit.delete_url_name, queue),
            **edit.extra_context(queue, form)), status=400)
