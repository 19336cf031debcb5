"""The portal's webhook pages (included under the portal's ``webhooks/``): list, create
(the secret shown once), edit with the latest deliveries, delete, a new secret, and the
delivery log with redeliver. Webhooks are public rows keyed by account: every page's
queryset is the host's account's only, so another tenant's id is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from switchboard.views import Column
from switchboard.views.once import no_store, redirect_to_shown, take_shown
from webhooks.actions import (
    do_create_webhook,
    do_delete_webhook,
    do_redeliver,
    do_rotate_webhook_secret,
    do_update_webhook,
)
from webhooks.filtersets import WebhookDeliveryFilterSet, WebhookFilterSet
from webhooks.models import Event, Webhook, WebhookDelivery
from webhooks.portal.forms import WebhookForm
from webhooks.retention import retention_days

EVENT_NAMES = dict(Event.choices)


class _WebhookPages:
    model = Webhook
    verbose_name = "webhook"
    verbose_name_plural = "webhooks"
    list_url_name = "portal:webhook-list"
    create_url_name = "portal:webhook-create"
    edit_url_name = "portal:webhook-edit"
    delete_url_name = "portal:webhook-delete"

    def get_queryset(self):
        return Webhook.objects.filter(account=self.identity.account).order_by("pk")


class WebhookListView(_WebhookPages, PortalListView):
    filterset_class = WebhookFilterSet
    columns = (
        Column("url", "URL", link=True),
        Column("events", "Events", render=lambda hook: ", ".join(EVENT_NAMES.get(e, e) for e in hook.events)),
        Column("enabled", "Enabled", render=lambda hook: "Yes" if hook.enabled else "No"),
        Column("description", "Description"),
    )


def shown_secret(view: Any) -> HttpResponse | None:
    """The page showing the signing secret the POST just made (switchboard.views.once),
    or None when the GET carries no token still waiting."""
    shown = take_shown(view.request)
    hook = shown and Webhook.objects.filter(pk=shown["webhook"], account=view.identity.account).first()
    if not hook:
        return None
    return no_store(render(view.request, "webhooks/webhook_secret.html",
                           view.context(object=hook, secret=shown["secret"])))


class WebhookEditView(_WebhookPages, PortalEditView):
    form_class = WebhookForm
    template_name = "webhooks/webhook_edit.html"

    def create(self, form: forms.Form) -> Webhook:
        hook, self.secret = do_create_webhook(self.identity.account, **self.writer, **form.cleaned_data)
        return hook

    def update(self, obj: Webhook, form: forms.Form) -> Webhook:
        return do_update_webhook(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: Webhook | None) -> dict[str, Any]:
        if obj is None:
            return {}
        return {"deliveries": WebhookDelivery.objects.filter(webhook=obj).order_by("-pk")[:10]}

    def get(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        if pk is None and (shown := shown_secret(self)) is not None:
            return shown
        return super().get(request, pk)

    def saved(self, obj: Webhook, *, created: bool) -> HttpResponse:
        if created:
            # Shown once, after a redirect (a reload makes no second webhook).
            return redirect_to_shown(self.request, webhook=obj.pk, secret=self.secret)
        return super().saved(obj, created=created)


class WebhookDeleteView(_WebhookPages, PortalDeleteView):
    def delete(self, obj: Webhook) -> None:
        do_delete_webhook(self.identity.account, obj, **self.writer)


class WebhookSecretView(_WebhookPages, PortalPage):
    """A new signing secret (POST), shown once; GET asks to confirm."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        hook = self.get_object(pk)
        self.authorize(self.identity)
        if (shown := shown_secret(self)) is not None:
            return shown
        return render(request, "webhooks/webhook_secret_confirm.html", self.context(object=hook))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        hook = self.get_object(pk)
        self.authorize(self.identity)
        hook, secret = do_rotate_webhook_secret(self.identity.account, hook, **self.writer)
        return redirect_to_shown(request, webhook=hook.pk, secret=secret)


class WebhookDeliveriesView(_WebhookPages, PortalPage):
    """A webhook's delivery log, newest first, filtered by event and status."""

    paginate_by = 50

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        hook = self.get_object(pk)
        queryset = WebhookDelivery.objects.filter(webhook=hook).order_by("-pk")
        filterset = WebhookDeliveryFilterSet(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and filterset.is_valid():
            queryset = filterset.qs
        page = Paginator(queryset, self.paginate_by).get_page(request.GET.get("page"))
        return render(request, "webhooks/webhook_deliveries.html",
                      self.context(object=hook, page=page, filterset=filterset,
                                   retention_days=retention_days()))


class WebhookRedeliverView(PortalPage):
    """POST: send a delivery's event again; GET goes back to the log."""

    model = WebhookDelivery
    verbose_name = "delivery"
    verbose_name_plural = "deliveries"
    list_url_name = "portal:webhook-list"

    def get_queryset(self):
        return WebhookDelivery.objects.filter(account=self.identity.account).select_related("webhook")

    def _log(self, delivery: WebhookDelivery) -> str:
        return reverse("portal:webhook-deliveries", kwargs={"pk": delivery.webhook_id})

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self._log(get_object_or_404(self.get_queryset(), pk=pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = get_object_or_404(self.get_queryset(), pk=pk)
        self.authorize(self.identity)
        do_redeliver(self.identity.account, delivery, **self.writer)
        messages.success(request, f"The {delivery.event} event is being sent again.")
        return redirect(self._log(delivery))
