"""Voicemail e-mail notifications (pbx.voicemail_email): what is mailed per box settings
(Django's locmem backend), delete after mail, once only, and the retries when the mail
server is down (Django's SMTP backend against a port where nothing listens)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from fsnodes.models import FreeswitchNode, NodeCommand
from pbx.actions import do_create_voicemail_box
from pbx.actions.voicemail_messages import record_left_message
from pbx.models import VoicemailMessage
from pbx.voicemail_email import email_voicemail
from switchboard.celery import app as celery_app

UUID = "3c9d2f4e-8b1a-4e5f-9c7d-6a5b4c3d2e1f"
WAV = b"RIFF" + bytes(range(200))


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks run at once in this thread (inside the test's transaction)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def storage(tmp_path, settings):
    settings.VOICEMAIL_STORAGE_DIR = str(tmp_path)
    settings.VOICEMAIL_EMAIL_FROM = "voicemail@pbx.example.net"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return tmp_path


def box_with(tree, **fields):
    box, _pin = do_create_voicemail_box(tree.c1, number="7000", name="Front desk", **fields)
    return box


def leave(tree, storage, *, recorded: bool = True) -> VoicemailMessage:
    path = storage / "c1.example.net" / "7000" / f"msg_{UUID}.wav"
    if recorded:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(WAV)
    return record_left_message(tree.c1, "7000", uuid=UUID, node="fs-a", file_path=str(path),
                               created_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), duration=75,
                               caller_id_name="Bob Baker", caller_id_number="+14165550100")


def stored(tree) -> list[VoicemailMessage]:
    with schema_context(tree.c1.schema_name):
        return list(VoicemailMessage.objects.all())


def test_a_left_message_mails_the_box_with_the_recording_and_notifies_the_sms_address(
        tree, storage, eager, committed):
    box_with(tree, email="desk@example.com", sms_email="4165550199@sms.example.com")
    with committed():
        leave(tree, storage)  # voicemail_left after commit → the task (eager here)
    full, notice = mail.outbox
    assert (full.to, full.from_email) == (["desk@example.com"], "voicemail@pbx.example.net")
    assert full.subject == "Voicemail from Bob Baker +14165550100 (1:15) for box 7000"
    assert "box 7000 (Front desk)" in full.body and "The recording is attached." in full.body
    [(name, content, mimetype)] = full.attachments
    assert (content, mimetype) == (WAV, "audio/wav")
    assert name.startswith("voicemail-7000-") and name.endswith(".wav")
    assert notice.to == ["4165550199@sms.example.com"] and notice.attachments == []
    assert notice.body == "New voicemail from Bob Baker +14165550100 (1:15)"
    [message] = stored(tree)
    assert message.notified_at is not None
    # A second delivery of the same task (acks_late after a crash) mails nothing more.
    email_voicemail.apply(args=(tree.c1.pk, message.pk))
    assert len(mail.outbox) == 2


def test_without_attach_audio_or_recording_the_mail_links_to_the_portal(tree, storage):
    box_with(tree, email="desk@example.com", attach_audio=False)
    message = leave(tree, storage)
    email_voicemail.apply(args=(tree.c1.pk, message.pk))
    with schema_context(tree.c1.schema_name):
        VoicemailMessage.objects.update(notified_at=None)
        box = message.box
        box.attach_audio = True
        box.save()
    (storage / "c1.example.net" / "7000" / f"msg_{UUID}.wav").unlink()
    email_voicemail.apply(args=(tree.c1.pk, message.pk))  # attach wanted, recording gone
    for sent in mail.outbox:
        assert sent.attachments == []
        assert "Listen to it here: http" in sent.body
        assert f"c1.localhost:8000/voicemail/{box.pk}/messages/" in sent.body


def test_a_box_without_addresses_mails_nothing(tree, storage, eager, committed):
    box_with(tree)
    with committed():
        leave(tree, storage)
    assert mail.outbox == []
    assert stored(tree)[0].notified_at is None


def test_delete_after_email_removes_the_message_here_and_on_the_nodes(tree, storage):
    node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=9)
    node.set_esl_password("ClueCon")
    node.save()
    box_with(tree, email="desk@example.com", delete_after_email=True)
    message = leave(tree, storage)
    assert email_voicemail.apply(args=(tree.c1.pk, message.pk)).get() == 1
    assert len(mail.outbox) == 1 and stored(tree) == []
    assert list(NodeCommand.objects.order_by("pk").values_list("command", flat=True)) == [
        f"vm_fsdb_msg_delete default c1.example.net 7000 {UUID}",
        "vm_fsdb_msg_purge default c1.example.net 7000"]


def closed_port() -> int:
    """A local port where nothing listens (bound, then closed: connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_mail_server_that_is_down_is_retried_then_given_up_keeping_the_message(
        tree, storage, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.VOICEMAIL_EMAIL_RETRY_DELAYS = (0, 0)
    caplog.set_level(logging.WARNING, logger="pbx.voicemail_email")
    box_with(tree, email="desk@example.com", delete_after_email=True)
    message = leave(tree, storage)
    result = email_voicemail.apply(args=(tree.c1.pk, message.pk))
    assert isinstance(result.result, ConnectionRefusedError)
    failures = [r.getMessage() for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert [f.split(" (attempt ")[1][:1] for f in failures] == ["1", "2"]
    assert "gave up after 3 attempts" in caplog.text
    [kept] = stored(tree)
    assert kept.notified_at is None  # not mailed, so not deleted either


def test_the_mail_goes_out_once_the_server_is_back(tree, storage, settings):
    """First attempt refused, second to a working backend: the retry sends it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    box_with(tree, email="desk@example.com")
    message = leave(tree, storage)
    settings.VOICEMAIL_EMAIL_RETRY_DELAYS = ()  # give up at once: the retry is the next call
    with pytest.raises(ConnectionRefusedError):
        email_voicemail.apply(args=(tree.c1.pk, message.pk), throw=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_voicemail.apply(args=(tree.c1.pk, message.pk)).get() == 1
    assert len(mail.outbox) == 1 and stored(tree)[0].notified_at is not None
