"""The voicemail e-mail through Celery against the real broker (CELERY_BROKER_URL, e.g.
RabbitMQ): a message left (committed) sends voicemail_left, the task is published, a
worker in this process consumes it from a queue of its own and mails; with the mail server
down the retry comes back through the broker after its countdown, then gives up.

The worker reads the database on its own connection, so the data is committed
(``transaction=True``) and removed afterwards with the tenant schemas
(tests.freeswitch.conftest.wipe_committed_data). Skipped on kombu's filesystem transport."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from pbx.actions import do_create_voicemail_box
from pbx.actions.voicemail_messages import record_left_message
from pbx.models import VoicemailMessage
from tenants.actions import do_bootstrap_master
from tenants.models import User
from tests.celery_worker import needs_broker, worker_for
from tests.conftest import PASSWORD, make_account
from tests.pbx.test_voicemail_email import closed_port

pytestmark = needs_broker


def wait_until(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


class Lines(logging.Handler):
    """The task's log lines, kept on its own logger (the worker re-configures the root
    logger's handlers, pytest's capture among them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.mark.django_db(transaction=True)
def test_the_mail_and_its_retries_go_through_the_broker(settings, tmp_path):
    from tests.freeswitch.conftest import wipe_committed_data

    settings.VOICEMAIL_STORAGE_DIR = str(tmp_path)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.VOICEMAIL_EMAIL_RETRY_DELAYS = (0.5,)
    caplog = Lines()
    logger = logging.getLogger("pbx.voicemail_email")
    logger.addHandler(caplog)
    # A worker started earlier in this process set the root logger to its own level
    # (start_worker's loglevel: ERROR), which would drop the retry's warning.
    saved_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        master = do_bootstrap_master(name="Provider", domains=["localhost"], admin_username="root",
                                     admin_password=PASSWORD)
        customer = make_account(User.objects.get(username="root"), master, "Vm Customer")
        do_create_voicemail_box(customer, number="7000", name="Front desk", email="desk@example.com")
        recording = tmp_path / customer.primary_domain_name / "7000" / "msg.wav"
        recording.parent.mkdir(parents=True)
        recording.write_bytes(b"RIFF" + bytes(100))

        def leave(uuid: str) -> VoicemailMessage:
            return record_left_message(customer, "7000", uuid=uuid, node="fs-a",
                                       file_path=str(recording), created_at=datetime.now(tz=UTC),
                                       duration=5, caller_id_number="5550100")

        with worker_for("pbx.*"):
            leave("11111111-1111-4111-8111-111111111111")  # autocommit: announced at once
            wait_until(lambda: mail.outbox)
            [sent] = mail.outbox
            assert sent.to == ["desk@example.com"] and len(sent.attachments) == 1

            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
            started = time.monotonic()
            leave("22222222-2222-4222-8222-222222222222")
            wait_until(lambda: "gave up after 2 attempts" in caplog.text)
            assert time.monotonic() - started >= 0.5  # the retry waited its countdown on the broker
        assert "failed (attempt 1), retrying in 0.5 s" in caplog.text
        with schema_context(customer.schema_name):
            mailed = {uuid: at is not None for uuid, at in VoicemailMessage.objects.values_list(
                "uuid", "notified_at")}
        assert mailed == {"11111111-1111-4111-8111-111111111111": True,
                          "22222222-2222-4222-8222-222222222222": False}
    finally:
        logger.removeHandler(caplog)
        logger.setLevel(saved_level)
        wipe_committed_data()
