"""Every object of a tenant's PBX, under /api/v1/accounts/{account_id}/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from pbx.api.views.blocking import CallBlockViewSet
from pbx.api.views.conferences import ConferenceRoomViewSet
from pbx.api.views.explain import ExplainViewSet
from pbx.api.views.extensions import DeviceViewSet, ExtensionViewSet
from pbx.api.views.followme import FollowMeViewSet
from pbx.api.views.ivr import IvrViewSet
from pbx.api.views.media import MohGroupViewSet, PromptViewSet
from pbx.api.views.numbers import PhoneNumberViewSet
from pbx.api.views.queues import CallQueueViewSet
from pbx.api.views.ringgroups import RingGroupViewSet
from pbx.api.views.schedules import ScheduleEventViewSet, ScheduleViewSet
from pbx.api.views.voicemail import VoicemailBoxViewSet
from pbx.api.views.voicemail_messages import VoicemailMessageViewSet

router = SimpleRouter(use_regex_path=False)
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("devices", DeviceViewSet, basename="device")
router.register("ring-groups", RingGroupViewSet, basename="ring-group")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("schedule-events", ScheduleEventViewSet, basename="schedule-event")
router.register("auto-attendants", IvrViewSet, basename="ivr")
router.register("conference-rooms", ConferenceRoomViewSet, basename="conference-room")
router.register("call-queues", CallQueueViewSet, basename="call-queue")
router.register("call-blocks", CallBlockViewSet, basename="call-block")
router.register("voicemail-boxes", VoicemailBoxViewSet, basename="voicemail-box")
router.register("phone-numbers", PhoneNumberViewSet, basename="phone-number")
router.register("prompts", PromptViewSet, basename="prompt")
router.register("hold-music-groups", MohGroupViewSet, basename="moh-group")

# A box's messages, under the box (their id is mod_voicemail's uuid).
box_router = SimpleRouter(use_regex_path=False)
box_router.register("messages", VoicemailMessageViewSet, basename="voicemail-message")

urlpatterns = [
    path("accounts/<int:account_id>/", include(router.urls)),
    path("accounts/<int:account_id>/explain/", ExplainViewSet.as_view({"get": "explain"}), name="explain"),
    path("accounts/<int:account_id>/voicemail-boxes/<int:box_id>/", include(box_router.urls)),
    path("accounts/<int:account_id>/extensions/<int:extension_id>/follow-me/",
         FollowMeViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
         name="follow-me"),
]
