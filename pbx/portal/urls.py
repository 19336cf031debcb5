from django.urls import path

from pbx.portal.views import (
    account,
    blocking,
    conferences,
    destinations,
    explain,
    extensions,
    ivr,
    numbers,
    queues,
    ringgroups,
    schedules,
    voicemail,
)

app_name = "portal"

urlpatterns = [
    path("", account.dashboard, name="dashboard"),
    path("login/", account.PortalLoginView.as_view(), name="login"),
    path("logout/", account.portal_logout, name="logout"),
    path("masquerade/", account.masquerade_start, name="masquerade-start"),
    path("masquerade/end/", account.masquerade_end, name="masquerade-end"),
    # Extensions and their devices.
    path("extensions/", extensions.ExtensionListView.as_view(), name="extension-list"),
    path("extensions/add/", extensions.ExtensionEditView.as_view(), name="extension-create"),
    path("extensions/<int:pk>/", extensions.ExtensionEditView.as_view(), name="extension-edit"),
    path("extensions/<int:pk>/delete/", extensions.ExtensionDeleteView.as_view(), name="extension-delete"),
    path("extensions/<int:pk>/devices/add/", extensions.DeviceCreateView.as_view(), name="device-create"),
    path("devices/<int:pk>/secret/", extensions.DeviceSecretView.as_view(), name="device-secret"),
    path("devices/<int:pk>/delete/", extensions.DeviceDeleteView.as_view(), name="device-delete"),
    # Ring groups.
    path("ring-groups/", ringgroups.RingGroupListView.as_view(), name="ring-group-list"),
    path("ring-groups/add/", ringgroups.RingGroupEditView.as_view(), name="ring-group-create"),
    path("ring-groups/<int:pk>/", ringgroups.RingGroupEditView.as_view(), name="ring-group-edit"),
    path("ring-groups/<int:pk>/delete/", ringgroups.RingGroupDeleteView.as_view(), name="ring-group-delete"),
    path("ring-groups/<int:pk>/members/", ringgroups.RingGroupMembersView.as_view(),
         name="ring-group-members"),
    # Voicemail boxes.
    path("voicemail/", voicemail.VoicemailBoxListView.as_view(), name="voicemail-list"),
    path("voicemail/add/", voicemail.VoicemailBoxEditView.as_view(), name="voicemail-create"),
    path("voicemail/<int:pk>/", voicemail.VoicemailBoxEditView.as_view(), name="voicemail-edit"),
    path("voicemail/<int:pk>/delete/", voicemail.VoicemailBoxDeleteView.as_view(), name="voicemail-delete"),
    path("voicemail/<int:pk>/pin/", voicemail.VoicemailPinView.as_view(), name="voicemail-pin"),
    # Auto attendants.
    path("auto-attendants/", ivr.IvrListView.as_view(), name="ivr-list"),
    path("auto-attendants/add/", ivr.IvrEditView.as_view(), name="ivr-create"),
    path("auto-attendants/<int:pk>/", ivr.IvrEditView.as_view(), name="ivr-edit"),
    path("auto-attendants/<int:pk>/delete/", ivr.IvrDeleteView.as_view(), name="ivr-delete"),
    path("auto-attendants/<int:pk>/keys/", ivr.IvrKeysView.as_view(), name="ivr-keys"),
    # Schedules, their events (opening hours, holidays) and the week view.
    path("schedules/", schedules.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/add/", schedules.ScheduleEditView.as_view(), name="schedule-create"),
    path("schedules/<int:pk>/", schedules.ScheduleEditView.as_view(), name="schedule-edit"),
    path("schedules/<int:pk>/delete/", schedules.ScheduleDeleteView.as_view(), name="schedule-delete"),
    path("schedules/<int:pk>/week/", schedules.ScheduleWeekView.as_view(), name="schedule-week"),
    path("schedules/<int:pk>/events/add/", schedules.ScheduleEventCreateView.as_view(),
         name="schedule-event-create"),
    path("schedules/<int:pk>/events/order/", schedules.ScheduleEventOrderView.as_view(),
         name="schedule-event-order"),
    path("schedule-events/<int:pk>/", schedules.ScheduleEventEditView.as_view(), name="schedule-event-edit"),
    path("schedule-events/<int:pk>/delete/", schedules.ScheduleEventDeleteView.as_view(),
         name="schedule-event-delete"),
    # Call queues and their agents.
    path("call-queues/", queues.CallQueueListView.as_view(), name="queue-list"),
    path("call-queues/add/", queues.CallQueueEditView.as_view(), name="queue-create"),
    path("call-queues/<int:pk>/", queues.CallQueueEditView.as_view(), name="queue-edit"),
    path("call-queues/<int:pk>/delete/", queues.CallQueueDeleteView.as_view(), name="queue-delete"),
    path("call-queues/<int:pk>/agents/", queues.CallQueueAgentsView.as_view(), name="queue-agents"),
    # Conference rooms.
    path("conference-rooms/", conferences.ConferenceRoomListView.as_view(), name="conference-room-list"),
    path("conference-rooms/add/", conferences.ConferenceRoomEditView.as_view(),
         name="conference-room-create"),
    path("conference-rooms/<int:pk>/", conferences.ConferenceRoomEditView.as_view(),
         name="conference-room-edit"),
    path("conference-rooms/<int:pk>/delete/", conferences.ConferenceRoomDeleteView.as_view(),
         name="conference-room-delete"),
    # Call blocks.
    path("call-blocks/", blocking.CallBlockListView.as_view(), name="call-block-list"),
    path("call-blocks/add/", blocking.CallBlockEditView.as_view(), name="call-block-create"),
    path("call-blocks/<int:pk>/", blocking.CallBlockEditView.as_view(), name="call-block-edit"),
    path("call-blocks/<int:pk>/delete/", blocking.CallBlockDeleteView.as_view(), name="call-block-delete"),
    # Phone numbers (assigned by the provider; routed here).
    path("numbers/", numbers.PhoneNumberListView.as_view(), name="number-list"),
    path("numbers/<int:pk>/", numbers.PhoneNumberEditView.as_view(), name="number-edit"),
    # Routing.
    path("explain/", explain.ExplainView.as_view(), name="explain"),
    path("destinations/options/", destinations.DestinationOptionsView.as_view(), name="destination-options"),
]
