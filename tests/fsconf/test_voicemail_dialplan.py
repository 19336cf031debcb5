"""The applications that leave a message (fsconf.voicemail), for the dialplan to use."""

from __future__ import annotations

from fsconf.voicemail import leave_message_actions

CONTEXT = "acme.example.net"


def test_a_plain_box_runs_mod_voicemail_in_the_tenant_domain():
    assert leave_message_actions(CONTEXT, "1001") == [
        ("answer", ""), ("voicemail", "default acme.example.net 1001")]


def test_an_uploaded_greeting_is_handed_to_mod_voicemail_and_busy_has_its_own():
    assert leave_message_actions(CONTEXT, "1001", greeting="/m/a.wav", busy_greeting="/m/b.wav") == [
        ("answer", ""), ("set", "voicemail_greeting_path=/m/a.wav"),
        ("voicemail", "default acme.example.net 1001")]
    busy = leave_message_actions(CONTEXT, "1001", greeting="/m/a.wav", busy_greeting="/m/b.wav", busy=True)
    assert ("set", "voicemail_greeting_path=/m/b.wav") in busy
    # Busy without a busy greeting: the usual one.
    assert ("set", "voicemail_greeting_path=/m/a.wav") in leave_message_actions(
        CONTEXT, "1001", greeting="/m/a.wav", busy=True)


def test_announcement_only_plays_the_greeting_and_takes_no_message():
    actions = leave_message_actions(CONTEXT, "8000", announcement_only=True, greeting="/m/a.wav")
    assert actions == [("answer", ""), ("playback", "/m/a.wav"), ("hangup", "NORMAL_CLEARING")]
    assert all(app != "voicemail" for app, _ in actions)
    # Without an uploaded greeting, the standard "not available" phrase of the box.
    assert leave_message_actions(CONTEXT, "8000", announcement_only=True)[1] == (
        "phrase", "voicemail_play_greeting,8000")
