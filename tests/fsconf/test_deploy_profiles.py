"""The shipped FreeSWITCH files (deploy/freeswitch): the SIP profiles use no parameter
mod_sofia warns about, and the RTP timeouts those parameters held are global channel
variables instead (issue 12: ``rtp-timeout-sec deprecated use media_timeout variable``,
sofia.c, at every profile load)."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from fsconf.sections.configuration import sofia_conf

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "freeswitch"
# Profile params sofia.c logs as deprecated when it loads a profile (FreeSWITCH 1.11).
DEPRECATED = {"rtp-timeout-sec", "rtp-hold-timeout-sec"}


def test_no_profile_uses_a_deprecated_param(db):
    for path in sorted((DEPLOY / "sip_profiles").glob("*.xml")):
        names = {p.get("name") for p in etree.parse(str(path)).iter("param")}
        assert not DEPRECATED & names, path.name
    # Nor does what we answer for sofia.conf (the same files plus the gateways).
    names = {p.get("name") for p in etree.fromstring(sofia_conf()).iter("param")}
    assert not DEPRECATED & names


def test_the_rtp_timeouts_are_global_channel_variables_in_milliseconds():
    text = (DEPLOY / "vars_switchboard.xml").read_text()
    sets = dict(re.findall(r'<X-PRE-PROCESS cmd="set" data="([a-z_]+)=(\d+)"/>', text))
    # The values the profiles held in seconds (300, 1800), now in ms.
    assert sets == {"media_timeout": "300000", "media_hold_timeout": "1800000"}
    # FreeSWITCH's preprocessor runs its commands inside comments too: none may be there.
    comments = "".join(re.findall(r"<!--.*?-->", text, re.S))
    assert "x-pre-process" not in comments.lower() and "$$" not in comments
    readme = (DEPLOY / "README.md").read_text()
    assert '<X-PRE-PROCESS cmd="include" data="vars_switchboard.xml"/>' in readme
