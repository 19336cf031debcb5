"""Change signals that more than one app sends. FreeSWITCH-facing code (the xml_curl
cache, the event-socket command queue) listens here, so the apps that send them never
import it, and they import nothing of each other to send them (carriers does not import
pbx). Each app's own signals stay with it (pbx.signals, carriers.signals).

Sent from an actions function *inside* its transaction, like pbx.signals: a receiver that
must act only on durable state wraps its work in ``transaction.on_commit``.
"""

from django.dispatch import Signal

# Something every FreeSWITCH-facing answer may depend on changed (an account's status,
# domains or place in the tree, a phone number's owner or route, a platform trunk).
# Sent by pbx.numbers, pbx.actions.media and carriers.actions with: reason (str).
platform_config_changed = Signal()

# A caller left a voicemail message and it is recorded (the node manager saw mod_voicemail's
# ``vm::maintenance`` ``leave-message``). Sent after the message row commits, by
# pbx.actions.voicemail_messages, with: account (tenants.Account), message
# (pbx.models.VoicemailMessage). Receivers: e-mail notification, webhooks.
voicemail_left = Signal()

# A call changed state on a node (CHANNEL_CREATE / CHANNEL_ANSWER / CHANNEL_HANGUP_COMPLETE
# of a leg our dialplan attributed with ``switchboard_account``). Sent by fsnodes, outside
# any transaction, with: event ("call.started" | "call.answered" | "call.ended"),
# account_id (int), payload (dict of plain JSON values). Receivers must not block: a
# webhook never delays a call.
call_event = Signal()
