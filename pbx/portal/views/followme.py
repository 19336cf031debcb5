"""An extension's follow-me (find me), on a page of its own reached from the extension:
the whole setting and every step written at once by ``do_set_follow_me``; removing it
(``do_delete_follow_me``) makes calls ring the extension's phones again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from pbx.actions.followme import do_delete_follow_me, do_set_follow_me
from pbx.models import Extension, FollowMe
from pbx.portal.forms.followme import FollowMeForm
from pbx.portal.views.base import PortalPage
from switchboard.views import show_action_errors


class _ExtensionPages:
    model = Extension
    verbose_name = "extension"
    verbose_name_plural = "extensions"
    list_url_name = "portal:extension-list"
    edit_url_name = "portal:extension-edit"


def _current(extension: Extension) -> tuple[FollowMe | None, dict[str, Any], list[dict[str, Any]]]:
    follow_me = FollowMe.objects.filter(extension=extension).first()
    if follow_me is None:
        return None, {"enabled": True}, []
    initial = {"enabled": follow_me.enabled, "record_name": follow_me.record_name,
               "offer_voicemail": follow_me.offer_voicemail, "ignore_busy": follow_me.ignore_busy,
               "active_hours": follow_me.active_hours_id, "moh_group": follow_me.moh_group_id,
               "fallback": follow_me.fallback}
    steps = [{"ring_seconds": step.ring_seconds, "confirm": step.confirm,
              "targets": [target.destination for target in step.targets.all()]}
             for step in follow_me.steps.prefetch_related("targets").order_by("position")]
    return follow_me, initial, steps


class FollowMeView(_ExtensionPages, PortalPage):
    template_name = "portal/follow_me.html"

    def form(self, extension: Extension, data: Any = None) -> tuple[FollowMe | None, FollowMeForm]:
        follow_me, initial, steps = _current(extension)
        # The same slots as the page showed (built from the same rows), so a POST names
        # exactly these fields: every step with one free target, and one free step.
        form = FollowMeForm(data, initial=initial, steps=steps)
        if not self.may_write:
            for field in form.fields.values():
                field.disabled = True
        return follow_me, form

    def page(self, extension: Extension, follow_me: FollowMe | None, form: FollowMeForm,
             status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.context(
            object=extension, follow_me=follow_me, form=form,
            list_url=self.url(self.edit_url_name, extension)), status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        follow_me, form = self.form(extension)
        return self.page(extension, follow_me, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        self.authorize(self.identity)
        follow_me, form = self.form(extension, request.POST)
        if form.is_valid():
            try:
                do_set_follow_me(self.identity.account, extension, **form.settings(), steps=form.steps(),
                                 **self.writer)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, f"Follow-me of extension {extension.number} saved.")
                return redirect(reverse_follow_me(extension))
        return self.page(extension, follow_me, form, status=400)


def reverse_follow_me(extension: Extension) -> str:
    return reverse("portal:follow-me", kwargs={"pk": extension.pk})


class FollowMeDeleteView(_ExtensionPages, PortalPage):
    """POST: the extension's follow-me goes; its calls ring its phones again."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(reverse_follow_me(self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        self.authorize(self.identity)
        try:
            do_delete_follow_me(self.identity.account, extension, **self.writer)
        except FollowMe.DoesNotExist:
            messages.info(request, f"Extension {extension.number} has no follow-me.")
        else:
            messages.success(request, f"Follow-me of extension {extension.number} removed.")
        return redirect(reverse_follow_me(extension))
