from pbx.models.blocking import BlockDirection, CallBlock
from pbx.models.conferences import ConferenceRoom
from pbx.models.destinations import Destination, DestinationField, DestinationKind
from pbx.models.extensions import Device, Extension
from pbx.models.followme import FollowMe, FollowMeStep, FollowMeTarget
from pbx.models.ivr import Ivr, IvrOption
from pbx.models.media import MediaStatus, MohGroup, MohTrack, Prompt
from pbx.models.queues import AgentStatus, CallQueue, QueueAgent, QueueStrategy
from pbx.models.ringgroups import RingGroup, RingGroupMember, RingStrategy
from pbx.models.schedules import EventRepeat, Schedule, ScheduleAction, ScheduleEvent
from pbx.models.voicemail import VoicemailBox, VoicemailMessage

__all__ = [
    "AgentStatus", "BlockDirection", "CallBlock", "CallQueue", "ConferenceRoom", "Destination",
    "DestinationField", "DestinationKind", "Device", "EventRepeat", "Extension", "FollowMe",
    "FollowMeStep", "FollowMeTarget", "Ivr", "IvrOption", "MediaStatus", "MohGroup", "MohTrack",
    "Prompt", "QueueAgent", "QueueStrategy", "RingGroup", "RingGroupMember", "RingStrategy",
    "Schedule", "ScheduleAction", "ScheduleEvent", "VoicemailBox", "VoicemailMessage",
]
