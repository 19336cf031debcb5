"""``conference.conf``: the ``default`` profile every tenant's rooms run in and its
caller controls (the keypad during a conference). FreeSWITCH asks when the first member
joins a conference (``conference_name``, ``profile_name``) and when a member's controls
are bound (``Action=request-controls``, ``Controls=default``) — both captured; one
document answers both.

What a room configures (music while alone, enter/exit sounds, member limit, recording,
moderator) is set per call by the conference app with ``conference_*`` channel
variables and member flags, so the profile deliberately sets no ``moh-sound``, no
``announce-count`` (the app announces the count itself; two announcements otherwise)
and no ``max-members``, which would override them.
"""

from __future__ import annotations

from lxml import etree

from fsconf.documents import new_document, serialize
from fsconf.request import FetchRequest

PROFILE = "default"
# The vanilla keypad (conf/vanilla/autoload_configs/conference.conf.xml), which users of
# FreeSWITCH-based PBXs know: 0 mute, * deaf and mute, # leave, 1-9 volume and energy.
CALLER_CONTROLS = [
    ("mute", "0"), ("deaf mute", "*"), ("energy up", "9"), ("energy equ", "8"), ("energy dn", "7"),
    ("vol talk up", "3"), ("vol talk zero", "2"), ("vol talk dn", "1"), ("vol listen up", "6"),
    ("vol listen zero", "5"), ("vol listen dn", "4"), ("hangup", "#"),
]
PROFILE_PARAMS = [
    ("domain", "$${domain}"), ("rate", "8000"), ("interval", "20"), ("energy-level", "100"),
    ("comfort-noise", "true"), ("caller-controls", "default"),
    ("muted-sound", "conference/conf-muted.wav"), ("unmuted-sound", "conference/conf-unmuted.wav"),
    ("alone-sound", "conference/conf-alone.wav"), ("locked-sound", "conference/conf-locked.wav"),
    ("is-locked-sound", "conference/conf-is-locked.wav"),
    ("is-unlocked-sound", "conference/conf-is-unlocked.wav"),
    ("kicked-sound", "conference/conf-kicked.wav"), ("pin-sound", "conference/conf-pin.wav"),
    ("bad-pin-sound", "conference/conf-bad-pin.wav"),
    ("enter-sound", "tone_stream://%(200,0,500,600,700)"),
    ("exit-sound", "tone_stream://%(500,0,300,200,100,50,25)"),
]


def conference_conf(fetch: FetchRequest) -> bytes:
    root, section = new_document("configuration")
    configuration = etree.SubElement(section, "configuration", name="conference.conf",
                                     description="Switchboard conference rooms")
    group = etree.SubElement(etree.SubElement(configuration, "caller-controls"), "group", name="default")
    for action, digits in CALLER_CONTROLS:
        etree.SubElement(group, "control", action=action, digits=digits)
    profile = etree.SubElement(etree.SubElement(configuration, "profiles"), "profile", name=PROFILE)
    for name, value in PROFILE_PARAMS:
        etree.SubElement(profile, "param", name=name, value=value)
    return serialize(root)
