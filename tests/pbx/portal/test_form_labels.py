"""Labels of the portal's forms made from a field's own name read as words: acronyms in
capitals and "moh group" as hold music ('Sms email', 'Moh group', 'Mac address' before)."""

from __future__ import annotations

from pbx.portal.forms.conferences import ConferenceRoomForm
from pbx.portal.forms.extensions import DeviceForm, ExtensionForm
from pbx.portal.forms.queues import CallQueueForm
from pbx.portal.forms.voicemail import VoicemailBoxForm


def test_labels_made_from_field_names_keep_acronyms():
    labels = {name: field.label for form in (VoicemailBoxForm, CallQueueForm, ConferenceRoomForm,
                                             DeviceForm, ExtensionForm)
              for name, field in form.base_fields.items()}
    assert labels["sms_email"] == "SMS email"
    assert labels["moh_group"] == "Hold music"
    assert labels["participant_pin"] == "Participant PIN"
    assert labels["mac_address"] == "MAC address"
    assert labels["outbound_caller_id_name"] == "Outbound caller ID name"
    assert labels["caller_id_name_prefix"] == "Caller ID name prefix"
    # A label the model or form chose itself is kept.
    assert labels["name"] == "Name" and labels["number"] == "Number"
