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
