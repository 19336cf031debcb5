"""Voicemail notifications sent by Switchboard (issue 15), not by mod_voicemail's own mailer:
when a message is left (``common.signals.voicemail_left``), a Celery task e-mails the box's
addresses with Django's mail backend (console in development, SMTP in production):

* ``box.email``: the message with the recording attached (``box.attach_audio``), or a link
  to it in the portal (off, or when the recording cannot be read from the storage shared
  with the nodes);
* ``box.sms_email``: a short notice without the recording (an e-mail-to-SMS gateway).

Then, when the box says so (``delete_after_email``, which needs ``email``), the message is
deleted (here and on the nodes: pbx.actions.voicemail_messages.do_delete_message).

A mail server that is down does not lose the notice: the task is retried with growing
delays (settings.VOICEMAIL_EMAIL_RETRY_DELAYS) through the broker. ``notified_at`` marks a
message mailed, so a task delivered twice (acks_late after a worker died) mails once.

The directory no longer gives mod_voicemail ``vm-mailto`` (fsconf.sections.directory):
FreeSWITCH would mail too, and with ``vm-keep-local-after-email=false`` it would delete
the message before anyone (this mirror, the phone) saw it.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from pbx.actions.voicemail_messages import RecordingUnavailable, do_delete_message, message_audio
from pbx.models import VoicemailBox, VoicemailMessage
from tenants.models import Account

log = logging.getLogger(__name__)

TASK = "pbx.email_voicemail"
DEFAULT_RETRY_DELAYS = (30, 60, 120, 300, 600, 1800, 3600, 3600)


def retry_delays() -> tuple[float, ...]:
    return tuple(getattr(settings, "VOICEMAIL_EMAIL_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def on_voicemail_left(sender, *, account: Account, message: VoicemailMessage, **kwargs) -> None:
    """Receiver of common.signals.voicemail_left (sent after the row commits): queue the
    mail when the box has an address. Never raises into the sender (the node manager)."""
    with schema_context(account.schema_name):
        box = message.box
    if not (box.email or box.sms_email):
        return
    account_id, message_id = account.pk, message.pk

    def queue() -> None:
        try:
            email_voicemail.delay(account_id, message_id)
        except Exception:
            # The broker is down: the message is in the mirror and on the phone; only
            # the mail is lost, and said so.
            log.exception("voicemail e-mail for message %s of account %s not queued", message_id, account_id)

    transaction.on_commit(queue)


def _length(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _link(account: Account, box: VoicemailBox) -> str:
    """Where the recipient listens: an extension's owner on My phone, others on the box's
    messages page."""
    if box.extension_id is not None:
        try:
            return account.portal_url(reverse("portal:myphone-voicemail"))
        except NoReverseMatch:
            pass
    return account.portal_url(reverse("portal:voicemail-messages", kwargs={"pk": box.pk}))


def _caller(message: VoicemailMessage) -> str:
    named = " ".join(part for part in (message.caller_id_name, message.caller_id_number) if part)
    return named or "an unknown caller"


def build_mails(account: Account, message: VoicemailMessage) -> list[EmailMessage]:
    """The mails for ``message`` (its box's settings), in the account's schema."""
    box = message.box
    sender = getattr(settings, "VOICEMAIL_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL
    left: datetime = timezone.localtime(message.created_at)
    caller = _caller(message)
    mails = []
    if box.email:
        audio = None
        if box.attach_audio:
            try:
                audio = message_audio(account, message, actor=None)
            except RecordingUnavailable as exc:
                log.warning("voicemail e-mail for box %s: recording not attached: %s", box.number, exc)
        listen = ("The recording is attached." if audio is not None
                  else f"Listen to it here: {_link(account, box)}")
        mail = EmailMessage(
            subject=f"Voicemail from {caller} ({_length(message.duration)}) for box {box.number}",
            body=(f"You have a new voicemail message in box {box.number} ({box.name}).\n\n"
                  f"From: {caller}\nReceived: {left:%A, %B %d %Y, %H:%M}\n"
                  f"Length: {_length(message.duration)}\n\n{listen}\n"),
            from_email=sender, to=[box.email])
        if audio is not None:
            mail.attach(audio.filename, audio.path.read_bytes(), audio.content_type)
        mails.append(mail)
    if box.sms_email:
        mails.append(EmailMessage(subject=f"Voicemail {box.number}",
                                  body=f"New voicemail from {caller} ({_length(message.duration)})",
                                  from_email=sender, to=[box.sms_email]))
    return mails


@shared_task(bind=True, name=TASK, ignore_result=True, acks_late=True, max_retries=None)
def email_voicemail(self, account_id: int, message_id: int) -> int:
    """Mail the message (once), then delete it when its box says so. Returns the mails
    sent."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    with schema_context(account.schema_name):
        message = VoicemailMessage.objects.select_related("box").filter(pk=message_id).first()
        if message is None or message.notified_at is not None:
            return 0  # deleted meanwhile, or already mailed
        mails = build_mails(account, message)
        if mails:
            try:
                get_connection(fail_silently=False).send_messages(mails)
            except (smtplib.SMTPException, OSError) as exc:
                delays = retry_delays()
                attempt = self.request.retries
                if attempt >= len(delays):
                    log.error("voicemail e-mail for box %s gave up after %d attempts: %s",
                              message.box.number, attempt + 1, exc)
                    raise
                log.warning("voicemail e-mail for box %s failed (attempt %d), retrying in %g s: %s",
                            message.box.number, attempt + 1, delays[attempt], exc)
                raise self.retry(exc=exc, countdown=delays[attempt], max_retries=len(delays)) from exc
        VoicemailMessage.objects.filter(pk=message.pk).update(notified_at=timezone.now())
        box = message.box
    if box.delete_after_email and box.email:
        with transaction.atomic():
            do_delete_message(account, message, actor=None)
    return len(mails)
