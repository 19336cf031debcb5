"""My phone: an employee's own pages, signed in with the login the admin invited them to
(``pbx.actions.endusers``), bound to one extension.

Every page works on that extension and nothing else: no page takes an extension's id,
and what does take an id (a voicemail message) is looked up among the extension's own
rows, so anything else is 404. Writes go through the admin's actions with the employee
as the actor (``authorize`` lets an end user through only for their own extension, and
``do_update_extension`` only for its forwards and do-not-disturb): the same validation,
toll-fraud checks, loop refusal and audit as the admin's pages and the *7x codes.

Other people are refused: an admin or another staff role has the admin's pages (My phone
is for a login bound to an extension, 403), another tenant's session is signed out, as
everywhere in the portal."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views import View

from cdr.filtersets import CallRecordFilterSet
from cdr.models import CallRecord
from cdr.queries import calls_of_extension, result_of
from fsnodes import live
from pbx.actions import do_add_call_block, do_remove_call_block, do_set_follow_me, do_update_extension
from pbx.actions.endusers import bound_extension, do_set_greeting
from pbx.actions.featurecodes import forward_target
from pbx.actions.voicemail import do_set_voicemail_pin
from pbx.actions.voicemail_messages import (
    RecordingUnavailable,
    do_delete_message,
    do_mark_message_read,
    get_message,
    list_messages,
    message_audio,
)
from pbx.destinations import describe, target_of
from pbx.models import CallBlock, Destination, DestinationKind, Extension, FollowMe, VoicemailBox
from pbx.permissions import forward_number
from pbx.portal.access import PortalIdentity, portal_identity
from pbx.portal.forms.myphone import (
    BlockForm,
    FollowMeForm,
    ForwardingForm,
    GreetingForm,
    PinForm,
    WelcomePasswordForm,
)
from pbx.routing import (
    CHECK_ANY_VOICEMAIL,
    CHECK_OWN_VOICEMAIL,
    FORWARD_LABELS,
    FORWARD_ON_CODES,
    SWITCH_CODES,
    SWITCH_LABELS,
)
from switchboard.views import show_action_errors
from switchboard.views.files import file_response
from tenants.http import client_ip
from tenants.models import PhoneNumber, Role, User

NOT_AN_END_USER = ("My phone is an employee's own login, bound to their extension; you manage "
                   "extensions from the admin's pages.")
HISTORY_PAGE = 50
MESSAGES_SHOWN = 200


def number_of(value: str) -> str:
    """What the employee types for a stored destination: its number (an extension, a
    ring group ...) or the outside number; "" for what has no number (a voicemail box)."""
    if not value:
        return ""
    destination = Destination.parse(value)
    if destination.kind == DestinationKind.EXTERNAL:
        return destination.ref
    if destination.pk is not None:
        obj = target_of(destination)
        return getattr(obj, "number", "") or ""
    return ""


class MyPhonePage(View):
    """The employee, their account and their extension, resolved once per request."""

    template_name = ""
    title = ""

    identity: PortalIdentity
    extension: Extension

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        identity = portal_identity(request)
        if identity is None:
            if request.user.is_authenticated:
                logout(request)  # signed in, but not for this tenant (or no longer allowed)
            return redirect(f"/login/?next={request.path}")
        request.portal = identity
        if identity.user.role != Role.END_USER:
            return self.refused(NOT_AN_END_USER)
        extension = bound_extension(identity.user, request.tenant)
        if extension is None:
            # Unbound logins are disabled with the extension's delete; this is the gap
            # between the two (or a row changed by hand): nothing to show.
            return self.refused("Your login is not bound to an extension any more; ask your administrator.")
        self.identity, self.extension = identity, extension
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as refusal:
            return self.refused(str(refusal) or "You may not do this.")

    def refused(self, reason: str) -> HttpResponse:
        return render(self.request, "portal/myphone/refused.html", {"reason": reason}, status=403)

    @property
    def user(self) -> User:
        return self.identity.user

    @property
    def writer(self) -> dict[str, Any]:
        return {"actor": self.user, "ip": client_ip(self.request)}

    def box(self) -> VoicemailBox | None:
        return VoicemailBox.objects.filter(extension=self.extension).first()

    def render(self, status: int = 200, **context: Any) -> HttpResponse:
        return render(self.request, self.template_name,
                      {"extension": self.extension, "title": self.title, **context}, status=status)


def _forwards(extension: Extension) -> list[dict[str, Any]]:
    labels = {"all": "All calls", "busy": "When busy", "no_answer": "When unanswered",
              "unregistered": "When no phone is connected"}
    return [{"name": name, "label": labels[name], "on": getattr(extension, f"forward_{name}"),
             "to": describe(getattr(extension, f"forward_{name}_to"))
             if getattr(extension, f"forward_{name}_to") else ""}
            for name in Extension.FORWARDS]


# The codes a phone dials for what these pages change (pbx.routing), shown on the overview.
FEATURE_CODES = [
    *[(code, f"{FORWARD_LABELS[what].capitalize()} to the number dialed after the code")
      for code, what in FORWARD_ON_CODES.items()],
    *[(code, SWITCH_LABELS[what].capitalize()) for code, what in SWITCH_CODES.items()],
    (CHECK_OWN_VOICEMAIL, "Your voicemail: messages, and 5 for your options (record your greetings "
                          "and your name)"),
    (CHECK_ANY_VOICEMAIL, "Any voicemail box (asks for its number and PIN)"),
]


def read_number(account: Any, extension: Extension, name: str, raw: str) -> str:
    """The destination a number typed for forward ``name`` names, read as the *7x codes
    read the digits after them (pbx.actions.featurecodes.forward_target: an internal
    number of this account, else an outside number the extension may call); a number
    typed with + is an outside number in E.164. Errors sit on ``forward_<name>_to``."""
    number = re.sub(r"[\s().\-/]", "", raw)
    if number.startswith("+") and number[1:].isdigit():
        try:
            dialed = forward_number(account, extension, number)
        except ValidationError as exc:
            raise ValidationError({f"forward_{name}_to": exc.messages}) from exc
        return str(Destination(DestinationKind.EXTERNAL, dialed.number))
    if not (number.isdigit() and number.isascii()):
        # forward_target's own message speaks of a code dialed on a phone, not a form.
        raise ValidationError({f"forward_{name}_to": [
            "Type an extension number, or an outside number: digits as you would dial it, "
            "or + and the country code."]})
    return forward_target(account, extension, name, number)


class OverviewView(MyPhonePage):
    template_name = "portal/myphone/overview.html"
    title = "My phone"

    def get(self, request: HttpRequest) -> HttpResponse:
        extension = self.extension
        numbers = PhoneNumber.objects.filter(
            account=request.tenant, route=str(Destination(DestinationKind.EXTENSION, str(extension.pk)))
        ).order_by("e164")
        follow_me = FollowMe.objects.filter(extension=extension).first()
        return self.render(
            numbers=list(numbers), devices=list(extension.devices.order_by("username")),
            forwards=_forwards(extension), follow_me=follow_me, box=self.box(),
            feature_codes=FEATURE_CODES, unread=_unread(request, self.box(), self.user))


class PhonesView(MyPhonePage):
    """The employee's phones with their live registration state, as the nodes hold it
    (``fsnodes.live.registrations``: sofia's registrations on every node, asked
    at most once per few seconds); a fragment the overview loads and refreshes with htmx.
    Only registrations in this account's domains whose user is one of these phones' SIP
    usernames are theirs."""

    template_name = "portal/myphone/_phones.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        devices = list(self.extension.devices.order_by("username"))
        domains = list(request.tenant.domains.values_list("domain", flat=True))
        found, asked = live.registrations(domains)
        mine: dict[str, list] = {device.username.lower(): [] for device in devices}
        for registration in found:
            if registration.user.lower() in mine:
                mine[registration.user.lower()].append(
                    (registration, datetime.fromtimestamp(registration.expires, tz=UTC)
                     if registration.expires else None))
        return self.render(rows=[(device, mine[device.username.lower()]) for device in devices],
                           nodes=asked.nodes, unreachable=asked.unreachable,
                           all_unreachable=asked.nodes > 0 and len(asked.unreachable) == asked.nodes)


def _unread(request: HttpRequest, box: VoicemailBox | None, actor: User) -> int | None:
    """New messages in the box (None: no box)."""
    return None if box is None else list_messages(request.tenant, box, actor=actor, read=False).count()


class ForwardingView(MyPhonePage):
    template_name = "portal/myphone/forwarding.html"
    title = "Forwarding and do not disturb"

    def form(self, data: Any = None) -> ForwardingForm:
        extension = self.extension
        initial: dict[str, Any] = {"do_not_disturb": extension.do_not_disturb}
        current: dict[str, str] = {}
        for name in Extension.FORWARDS:
            stored = getattr(extension, f"forward_{name}_to")
            initial[f"forward_{name}"] = getattr(extension, f"forward_{name}")
            initial[f"forward_{name}_to"] = number_of(stored)
            current[name] = describe(stored) if stored else ""
        return ForwardingForm(data, initial=initial, current=current)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(form=self.form())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                fields = self.fields(form)
                if fields:
                    self.extension = do_update_extension(request.tenant, self.extension,
                                                         **self.writer, **fields)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, "Forwarding saved." if fields else "Nothing changed.")
                return redirect("portal:myphone-forwarding")
        return self.render(form=form, status=400)

    def fields(self, form: ForwardingForm) -> dict[str, Any]:
        """What the employee changed, as the extension's fields: a number typed is read
        as the *7x codes read it (an internal number of this account, else an outside
        number the extension may call)."""
        fields: dict[str, Any] = {}
        if "do_not_disturb" in form.changed_data:
            fields["do_not_disturb"] = form.cleaned_data["do_not_disturb"]
        errors: dict[str, list[str]] = {}
        for name in Extension.FORWARDS:
            switch, to = f"forward_{name}", f"forward_{name}_to"
            if switch in form.changed_data:
                fields[switch] = form.cleaned_data[switch]
            number = form.cleaned_data[to].strip()
            if to in form.changed_data and number:
                try:
                    fields[to] = read_number(self.request.tenant, self.extension, name, number)
                except ValidationError as exc:
                    errors.update(exc.message_dict)
            elif to in form.changed_data and not getattr(self.extension, switch) and not fields.get(switch):
                fields[to] = ""  # cleared while off: forget where it pointed
        if errors:
            raise ValidationError(errors)
        return fields


class FollowMeView(MyPhonePage):
    template_name = "portal/myphone/followme.html"
    title = "Follow-me"

    def form(self, data: Any = None) -> FollowMeForm:
        follow_me = FollowMe.objects.filter(extension=self.extension).first()
        initial: dict[str, Any] = {"enabled": bool(follow_me and follow_me.enabled)}
        if follow_me is not None:
            for step in follow_me.steps.order_by("position").prefetch_related("targets"):
                initial[f"step_{step.position}_targets"] = ", ".join(
                    number_of(item.destination) or describe(item.destination) for item in step.targets.all())
                initial[f"step_{step.position}_seconds"] = step.ring_seconds
        return FollowMeForm(data, initial=initial)

    def get(self, request: HttpRequest) -> HttpResponse:
        follow_me = FollowMe.objects.filter(extension=self.extension).first()
        return self.render(form=self.form(), follow_me=follow_me)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request.POST)
        follow_me = FollowMe.objects.filter(extension=self.extension).first()
        if form.is_valid():
            try:
                steps = self.steps(form)
                kept = {"record_name": follow_me.record_name, "offer_voicemail": follow_me.offer_voicemail,
                        "ignore_busy": follow_me.ignore_busy, "active_hours": follow_me.active_hours_id,
                        "moh_group": follow_me.moh_group_id, "fallback": follow_me.fallback,
                        } if follow_me is not None else {}
                do_set_follow_me(request.tenant, self.extension, enabled=form.cleaned_data["enabled"],
                                 steps=steps, **kept, **self.writer)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, "Follow-me saved.")
                return redirect("portal:myphone-follow-me")
        return self.render(form=form, follow_me=follow_me, status=400)

    def steps(self, form: FollowMeForm) -> list[dict[str, Any]]:
        """The steps for ``do_set_follow_me``: each number read as a forward's is (an
        internal number, else an outside number the extension may call)."""
        steps, errors = [], []
        for position, numbers, seconds in form.steps():
            targets = []
            for number in numbers:
                try:
                    targets.append(read_number(self.request.tenant, self.extension, "all", number))
                except ValidationError as exc:
                    errors += [f"Step {position}, {number}: {m}" for m in exc.messages]
            steps.append({"ring_seconds": seconds, "confirm": True, "targets": targets})
        if errors:
            raise ValidationError({"__all__": errors})
        return steps


class BlockingView(MyPhonePage):
    """Call blocking of the employee's own line: their extension's blocks (the
    account-wide ones are the admin's, named here so nobody wonders), a form to add one.
    Written by the call-block actions with the extension named, which ``authorize``
    lets through for the employee's own extension only."""

    template_name = "portal/myphone/blocking.html"
    title = "Call blocking"

    def page(self, form: BlockForm, status: int = 200) -> HttpResponse:
        own = CallBlock.objects.filter(extension=self.extension).order_by("pattern", "pk")
        return self.render(form=form, status=status, blocks=list(own),
                           account_blocks=CallBlock.objects.filter(extension=None).count())

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(BlockForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BlockForm(request.POST)
        if form.is_valid():
            try:
                block = do_add_call_block(request.tenant, extension=self.extension, **form.cleaned_data,
                                          **self.writer)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, f"{block} is blocked.")
                return redirect("portal:myphone-blocking")
        return self.page(form, status=400)


class BlockDeleteView(MyPhonePage):
    """POST: remove one of the employee's own blocks; another extension's block, or the
    account's, is not found here (404), as a block that does not exist."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("portal:myphone-blocking")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        block = CallBlock.objects.filter(extension=self.extension, pk=pk).first()
        if block is None:
            raise Http404("No such block")
        do_remove_call_block(request.tenant, block, **self.writer)
        messages.success(request, f"{block} is no longer blocked.")
        return redirect("portal:myphone-blocking")


class VoicemailView(MyPhonePage):
    """The box's PIN and greetings, and its messages when the node manager mirrors them."""

    template_name = "portal/myphone/voicemail.html"
    title = "Voicemail"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(PinForm())

    def page(self, form: PinForm, status: int = 200, greeting_form: GreetingForm | None = None
             ) -> HttpResponse:
        box = self.box()
        return self.render(box=box, form=form, messages_list=_messages(self.request, box, self.user),
                           status=status, own_code=CHECK_OWN_VOICEMAIL,
                           greeting_form=greeting_form or GreetingForm(),
                           greetings=[(field, label, getattr(box, field) if box else None)
                                      for field, label in (
                                          ("greeting_unavailable", "When you do not answer"),
                                          ("greeting_busy", "When you are busy"),
                                          ("greeting_name", "Your name"))])

    def post(self, request: HttpRequest) -> HttpResponse:
        box = self.box()
        if box is None:
            raise Http404("No voicemail box")
        form = PinForm(request.POST)
        if form.is_valid():
            try:
                do_set_voicemail_pin(request.tenant, box, pin=form.cleaned_data["pin"], **self.writer)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, "Your voicemail PIN is changed.")
                return redirect("portal:myphone-voicemail")
        return self.page(form, status=400)


def _messages(request: HttpRequest, box: VoicemailBox | None, actor: User) -> list:
    """The box's messages, newest first (the node manager's mirror of mod_voicemail's
    index, through the voicemail actions)."""
    if box is None:
        return []
    return list(list_messages(request.tenant, box, actor=actor)[:MESSAGES_SHOWN])


class GreetingView(VoicemailView):
    """POST: a recording uploaded for one of the box's greetings (``operation`` upload),
    or back to the greeting recorded by phone (``operation`` clear), through
    ``do_set_greeting``; the answer is the voicemail page (a GET goes there)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return redirect("portal:myphone-voicemail")

    def post(self, request: HttpRequest) -> HttpResponse:
        box = self.box()
        if box is None:
            raise Http404("No voicemail box")
        form = GreetingForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["upload"] if request.POST.get("operation") != "clear" else None
            if upload is None and request.POST.get("operation") != "clear":
                form.add_error("upload", "Choose a recording to upload.")
            else:
                try:
                    do_set_greeting(request.tenant, box, which=form.cleaned_data["which"], upload=upload,
                                    **self.writer)
                except ValidationError as error:
                    show_action_errors(form, error)
                else:
                    messages.success(request, "Greeting uploaded: it plays once converted." if upload
                                     else "Greeting set back to the one you record by phone.")
                    return redirect("portal:myphone-voicemail")
        return self.page(PinForm(), greeting_form=form, status=400)


class CallHistoryView(MyPhonePage):
    """The extension's own call legs (``cdr.queries.calls_of_extension``: the legs its
    phones placed and the legs that rang it, in this account only), and those of its
    other phones (a second device's SIP user is ``1001-2``), searched with the call
    history's FilterSet (last 30 days by default). A record's ``extension`` is the SIP
    user that authenticated or that we rang, so another extension's calls never match;
    the FilterSet only narrows this queryset (its extension and account filters are
    not offered: they could only narrow it further)."""

    template_name = "portal/myphone/calls.html"
    title = "My calls"

    def get(self, request: HttpRequest) -> HttpResponse:
        account = request.tenant
        others = [u for u in self.extension.devices.values_list("username", flat=True)
                  if u != self.extension.number]
        legs = calls_of_extension(account, self.extension.number)
        if others:
            legs = (legs | CallRecord.objects.filter(account_id=account.pk, extension__in=others)
                    ).order_by("-start_at", "-leg_uuid")
        filterset = CallRecordFilterSet(request.GET or None, queryset=legs.defer("raw"))
        for name in ("extension", "account", "leg"):
            filterset.form.fields.pop(name, None)
            filterset.filters.pop(name, None)
        filterset.zone = zoneinfo.ZoneInfo(account.timezone or settings.TIME_ZONE)
        page = Paginator(filterset.qs, HISTORY_PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        rows = list(page.object_list)
        for call in rows:
            call.result = result_of(call)  # answered / missed / busy / failed
        return self.render(page=page, rows=rows, filterset=filterset, query=query.urlencode())


class MessageView(MyPhonePage):
    """One voicemail message of the employee's own box: its recording (inline for the
    page's player, or as a download), or a POST marking it read/unread or deleting it.
    The box is always their own; a message of another box is not found (404)."""

    def message(self, uuid: str):
        box = self.box()
        if box is None:
            raise Http404("No voicemail box")
        try:
            return get_message(self.request.tenant, box, uuid, actor=self.user)
        except ObjectDoesNotExist as exc:
            raise Http404("No such message") from exc

    def get(self, request: HttpRequest, uuid: str) -> HttpResponse:
        message = self.message(uuid)
        try:
            audio = message_audio(request.tenant, message, actor=self.user)
        except RecordingUnavailable as exc:
            return HttpResponse(str(exc), status=410 if exc.gone else 404, content_type="text/plain")
        return file_response(request, audio.path, size=audio.size, content_type=audio.content_type,
                             filename=audio.filename, download="download" in request.GET)

    def post(self, request: HttpRequest, uuid: str) -> HttpResponse:
        message = self.message(uuid)
        operation = request.POST.get("operation", "")
        if operation in ("read", "unread"):
            do_mark_message_read(request.tenant, message, read=operation == "read", **self.writer)
            messages.success(request, f"Message marked {operation}.")
        elif operation == "delete":
            do_delete_message(request.tenant, message, **self.writer)
            messages.success(request, "Message deleted.")
        else:
            return HttpResponse("Unknown operation.", status=400, content_type="text/plain")
        return redirect("portal:myphone-voicemail")


class WelcomeView(PasswordResetConfirmView):
    """The invitation's link: the employee chooses a password (Django's reset tokens,
    which stop working once it is set) and is signed in on this host. Only a login of
    this account is found: another account's link is invalid here."""

    template_name = "portal/myphone/welcome.html"
    form_class = WelcomePasswordForm
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("portal:myphone")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        tenant = getattr(self.request, "tenant", None)
        if user is None or tenant is None or user.account_id != tenant.pk or not user.is_active:
            return None
        return user
