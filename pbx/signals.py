"""What the PBX model announces when it changes. FreeSWITCH-facing code (the xml_curl
cache, the event-socket command queue) listens here, so the PBX model never imports it.
What other apps announce too (platform_config_changed) is in common.signals.

Every signal is sent from an actions function *inside* its transaction: a receiver that
writes rows (a queued FreeSWITCH command) commits or rolls back with the change, and one
that must act only on durable state wraps its work in ``transaction.on_commit``.
"""

from django.dispatch import Signal

# The documents FreeSWITCH fetches for this account may have changed.
# Sent with: account (tenants.Account).
tenant_config_changed = Signal()

# These SIP credentials changed, were disabled or were removed: FreeSWITCH must forget
# what it cached for them. Always sent together with tenant_config_changed (which
# invalidates our own cache), so receivers here deal with FreeSWITCH only.
# Sent with: account, domains (list[str], primary first), usernames (list[str]).
sip_credentials_changed = Signal()

# mod_local_stream streams (one per hold-music group and rate, pbx.media.stream_names) to
# start, to reload (their settings changed) or to stop on every FreeSWITCH node. Sent after
# common.signals.platform_config_changed, whose receiver makes local_stream.conf current first.
# Sent with: account, start, reload, stop (lists of stream names).
moh_streams_changed = Signal()

# Voicemail boxes were deleted: FreeSWITCH keeps their messages (mod_voicemail's own
# storage) until told. Sent inside the action's transaction.
# Sent with: account, domain (the voicemail domain: the primary SIP domain), boxes (list[str]).
voicemail_boxes_deleted = Signal()

# Call queues or their agents changed (pbx.actions.queues): callcenter.conf must be built
# again and the running mod_callcenter told. Sent inside the action's transaction, after
# the change; receivers: fsconf (the document, first: it is connected first) and fsnodes
# (the commands, delivered after commit).
# Sent with: account, commands (list[str]: callcenter_config arguments, in order; pbx.queues).
callcenter_changed = Signal()

# Voicemail messages were marked read or unread, or deleted (pbx.actions.voicemail_messages):
# mod_voicemail on the nodes must do the same (its rows drive the phone menu and the
# message light). Sent inside the action's transaction; fsnodes queues the commands.
# Sent with: account, domain (the voicemail domain), box (str, the box number),
# read, unread, deleted (lists of message uuids).
voicemail_messages_changed = Signal()
