"""End users' logins ("My phone"): an employee's own sign-in, bound to one extension.

Users live in the public schema and extensions in the account's, so the binding is the
extension's primary key on the user (``User.extension_pk``), written only here and
cleared by the extension's delete action (:func:`unbind_extension`). The admin invites:
the login is made with an unusable password and the employee receives a link to choose
one (Django's password-reset tokens: the link stops working once a password is set).
Staff with the user-activation role enable and disable these logins
(``tenants.actions.do_set_user_active``) and do nothing else here."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import schema_context

from pbx import media
from pbx.actions.common import changed
from pbx.actions.crud import authorize
from pbx.actions.media import _add_upload as add_upload  # the prompts' own upload path
from pbx.actions.media import users_of
from pbx.models import Extension, Prompt, VoicemailBox
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, Role, User


def login_of(account: Account, extension: Extension | int) -> User | None:
    """The end user's login bound to ``extension`` of ``account``, if any."""
    pk = extension.pk if isinstance(extension, Extension) else extension
    return User.objects.filter(account=account, role=Role.END_USER, extension_pk=pk).first()


def bound_extension(user: User, account: Account) -> Extension | None:
    """The extension ``user``'s login is bound to in ``account`` (None: not an end user
    of this account, or the extension is gone)."""
    if user.role != Role.END_USER or user.account_id != account.pk or user.extension_pk is None:
        return None
    with schema_context(account.schema_name):
        return Extension.objects.filter(pk=user.extension_pk).first()


def invitation_link(account: Account, user: User) -> str:
    """The page where the invited employee chooses a password (valid until one is set,
    or for settings.PASSWORD_RESET_TIMEOUT)."""
    path = reverse("portal:myphone-welcome", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user)})
    return account.portal_url(path)


def _send_invitation(account: Account, user: User, extension_number: str) -> None:
    link = invitation_link(account, user)
    send_mail(
        f"Your phone at {account.name}: choose your password",
        f"Hello,\n\nYou can now manage your phone (extension {extension_number}) at "
        f"{account.name}: forwarding, voicemail and your calls.\n\n"
        f"Your username is {user.username}. Choose your password here:\n{link}\n\n"
        "The link works once and expires in "
        f"{settings.PASSWORD_RESET_TIMEOUT // 86400} days.\n",
        None, [user.email])


@transaction.atomic
def do_invite_end_user(account: Account, extension: Extension, *, email: str,
                       username: str = "", actor: User | None = None, ip: str | None = None,
                       send: bool = True) -> User:
    """Make the employee's login for ``extension`` (username: ``username`` or the
    e-mail address) with no usable password, and e-mail them the link to choose one
    once this commits (``send`` False: no e-mail, the demo data's case). An extension
    has one login; inviting again re-sends the link while its password is not chosen
    yet."""
    authorize(actor, account)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter the employee's e-mail address: the invitation goes there."]
    if errors:
        raise ValidationError(errors)
    if not account.portal_host():
        raise ValidationError({"email": [f"{account.name} has no portal address yet, so the "
                                         "invitation link would lead nowhere; ask your provider."]})
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        number = extension.number
    user = User.objects.select_for_update().filter(
        account=account, role=Role.END_USER, extension_pk=extension.pk).first()
    if user is not None:
        if user.has_usable_password():
            raise ValidationError({"email": [f"Extension {number} already has a login "
                                             f"({user.username}) whose password is set."]})
        user.email = email
        user.save(update_fields=["email"])
        verb = "end_user.reinvite"
    else:
        user = User(username=username or email, email=email, account=account, role=Role.END_USER,
                    extension_pk=extension.pk)
        user.set_unusable_password()
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise ValidationError({"email" if name == "username" and not username else name: messages
                                   for name, messages in exc.message_dict.items()}) from exc
        user.save()
        verb = "end_user.invite"
    record(actor, account, verb, ip, username=user.username, extension=number)
    if send:
        transaction.on_commit(lambda: _send_invitation(account, user, number))
    return user


def unbind_extension(account: Account, extension_pk: int, *, actor: User | None,
                     ip: str | None = None) -> None:
    """The extension is being deleted (inside its transaction): its login loses the
    binding and is disabled, so its sessions end (tenants.identity refuses inactive
    users) and a new extension with a reused primary key is not reached through it."""
    for user in User.objects.select_for_update().filter(
            account=account, role=Role.END_USER, extension_pk=extension_pk):
        user.extension_pk, user.is_active = None, False
        user.save(update_fields=["extension_pk", "is_active"])
        record(actor, account, "end_user.unbind", ip, username=user.username)


# --- greetings uploaded from My phone ------------------------------------------------------

GREETINGS = {"greeting_unavailable": "unavailable", "greeting_busy": "busy", "greeting_name": "name"}


def _greeting_name(box: VoicemailBox, which: str) -> str:
    """The prompt's name: whose greeting it is, and unique (prompt names are)."""
    return f"Voicemail {box.number} {GREETINGS[which]} greeting {timezone.now():%Y-%m-%d %H%M%S} " \
           f"{secrets.token_hex(2)}"


def _is_own_upload(prompt: Prompt | None, box: VoicemailBox) -> bool:
    return prompt is not None and prompt.name.startswith(f"Voicemail {box.number} ")


@transaction.atomic
def do_set_greeting(account: Account, box: VoicemailBox, *, which: str, upload: UploadedFile | None = None,
                    actor: User | None = None, ip: str | None = None) -> VoicemailBox:
    """Give ``box`` an uploaded recording as one of its greetings (``which``: a greeting
    field), or with no ``upload`` go back to the one recorded by phone (else the
    standard one). The upload is checked, stored and converted as every prompt is
    (``pbx.actions.media``' path: formats, size, quota, the Celery conversion once this
    commits) and chosen at once: until it is converted FreeSWITCH is given no greeting
    path (``pbx.media.playable_path``), so the box's own greeting plays meanwhile. The
    greeting it replaces is deleted when it was such an upload and nothing else uses it.
    The box's end user may do this for their own box (My phone)."""
    if which not in GREETINGS:
        raise ValidationError({"which": ["Choose which greeting to change."]})
    authorize(actor, account, extension_pk=box.extension_id)
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.select_for_update().get(pk=box.pk)
        authorize(actor, account, extension_pk=box.extension_id)  # the stored row decides
        old: Prompt | None = getattr(box, which)
        prompt = None
        if upload is not None:
            prompt = Prompt(name=_greeting_name(box, which))
            try:
                add_upload(prompt, upload)
            except ValidationError as exc:
                raise ValidationError({"upload": exc.messages}) from exc
        setattr(box, which, prompt)
        box.save(update_fields=[which, "updated_at"])
        if _is_own_upload(old, box) and not users_of(old):
            files = media.stored_names(old)
            old.delete()
            media.delete_files_after_commit(files)
    record(actor, account, "voicemail.greeting", ip, number=box.number, greeting=GREETINGS[which],
           **({"file": prompt.original_name, "bytes": prompt.size_bytes} if prompt else {"cleared": True}))
    changed(account, index=IndexScope.box(box))
    return box
