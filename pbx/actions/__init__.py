"""Every write to a tenant's PBX data goes through these functions (one module per kind of
object). Each runs inside the tenant's schema, validates, leaves an audit event in the
public schema, and announces the change (pbx.signals) inside its transaction, so
FreeSWITCH-facing caches and queues act exactly when it commits."""

from pbx.actions.blocking import (
    do_add_call_block,
    do_remove_call_block,
    do_update_call_block,
)
from pbx.actions.conferences import (
    do_create_conference_room,
    do_delete_conference_room,
    do_update_conference_room,
)
from pbx.actions.extensions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.actions.featurecodes import (
    do_feature_code,
)
from pbx.actions.followme import (
    do_set_follow_me,
)
from pbx.actions.ivr import (
    do_create_ivr,
    do_delete_ivr,
    do_set_ivr_options,
    do_update_ivr,
)
from pbx.actions.media import (
    do_add_moh_track,
    do_create_moh_group,
    do_delete_moh_group,
    do_delete_prompt,
    do_remove_moh_track,
    do_rename_prompt,
    do_reorder_moh_tracks,
    do_update_moh_group,
    do_upload_prompt,
)
from pbx.actions.queues import (
    Agent,
    do_create_queue,
    do_delete_queue,
    do_set_agent_status,
    do_set_queue_agents,
    do_update_queue,
)
from pbx.actions.ringgroups import (
    do_create_ring_group,
    do_delete_ring_group,
    do_set_ring_group_members,
    do_update_ring_group,
)
from pbx.actions.schedules import (
    do_add_schedule_event,
    do_create_schedule,
    do_delete_schedule,
    do_delete_schedule_event,
    do_reorder_schedule_events,
    do_update_schedule,
    do_update_schedule_event,
)
from pbx.actions.voicemail import (
    do_create_voicemail_box,
    do_delete_voicemail_box,
    do_set_voicemail_pin,
    do_update_voicemail_box,
)

__all__ = [
    "Agent",
    "do_add_call_block",
    "do_add_device",
    "do_add_moh_track",
    "do_add_schedule_event",
    "do_create_conference_room",
    "do_create_extension",
    "do_create_ivr",
    "do_create_moh_group",
    "do_create_queue",
    "do_create_ring_group",
    "do_create_schedule",
    "do_create_voicemail_box",
    "do_delete_conference_room",
    "do_delete_extension",
    "do_delete_ivr",
    "do_delete_moh_group",
    "do_delete_prompt",
    "do_delete_queue",
    "do_delete_ring_group",
    "do_delete_schedule",
    "do_delete_schedule_event",
    "do_delete_voicemail_box",
    "do_feature_code",
    "do_remove_call_block",
    "do_remove_device",
    "do_remove_moh_track",
    "do_rename_prompt",
    "do_reorder_moh_tracks",
    "do_reorder_schedule_events",
    "do_set_agent_status",
    "do_set_follow_me",
    "do_set_ivr_options",
    "do_set_queue_agents",
    "do_set_ring_group_members",
    "do_set_voicemail_pin",
    "do_update_call_block",
    "do_update_conference_room",
    "do_update_device",
    "do_update_extension",
    "do_update_ivr",
    "do_update_moh_group",
    "do_update_queue",
    "do_update_ring_group",
    "do_update_schedule",
    "do_update_schedule_event",
    "do_update_voicemail_box",
    "do_upload_prompt",
]
