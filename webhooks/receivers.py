"""The two signals webhooks listen to (common.signals). Each only writes the delivery
rows (when the sender's transaction commits) and queues their task: nothing here waits
on a webhook's server.

``call_event`` comes from the node manager (fsnodes.call_events), in a thread of its
gevent pool with that thread's own database connection, never in the event loop that
carries the calls; it is sent outside any transaction, so the rows commit at once.
``voicemail_left`` comes from the voicemail actions after the message row commits."""

from __future__ import annotations

import logging
from typing import Any

from django_tenants.utils import schema_context

from webhooks.delivery import create_deliveries
from webhooks.models import Event

log = logging.getLogger("webhooks.receivers")

CALL_EVENTS = frozenset({Event.CALL_STARTED, Event.CALL_ANSWERED, Event.CALL_ENDED})


def on_call_event(sender: Any, *, event: str, account_id: int, payload: dict, **kwargs: Any) -> None:
    if event not in CALL_EVENTS:
        log.warning("unknown call event %r ignored", event)
        return
    create_deliveries(account_id, event, payload)


def voicemail_payload(account: Any, message: Any) -> dict[str, Any]:
    """What a voicemail.left event says (pbx.models.VoicemailMessage and its box, read in
    the account's schema: the signal comes after commit, outside any schema context)."""
    with schema_context(account.schema_name):
        box = message.box
        return {
            "message_id": message.pk,
            "message_uuid": message.uuid,
            "box": box.number,
            "box_name": box.name,
            "caller_id_number": message.caller_id_number,
            "caller_id_name": message.caller_id_name,
            "duration": message.duration,
            "left_at": message.created_at.isoformat() if message.created_at else None,
        }


def on_voicemail_left(sender: Any, *, account: Any, message: Any, **kwargs: Any) -> None:
    create_deliveries(account.pk, Event.VOICEMAIL_LEFT, voicemail_payload(account, message))
