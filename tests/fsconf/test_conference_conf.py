"""conference.conf: both captured requests (first member joining, controls binding)."""

from __future__ import annotations

import pytest

from fsconf.sections.conf_conference import CALLER_CONTROLS
from tests.fsconf.replay import replay_document


@pytest.mark.parametrize("name", ["configuration-conference.conf-conference-join",
                                  "configuration-conference.conf-member-controls"])
def test_captured_requests_get_the_default_profile_and_keypad(db, name):
    root = replay_document(name)
    configuration = root.find(".//configuration[@name='conference.conf']")
    controls = [(c.get("action"), c.get("digits"))
                for c in configuration.findall("caller-controls/group[@name='default']/control")]
    assert controls == CALLER_CONTROLS
    digits = [d for _, d in controls]
    assert len(set(digits)) == len(digits)  # one action per key
    profile = configuration.find("profiles/profile[@name='default']")
    params = {p.get("name"): p.get("value") for p in profile.findall("param")}
    assert params["caller-controls"] == "default"
    # Set per call by the conference app; the profile must not override them.
    assert not {"moh-sound", "announce-count", "max-members"} & params.keys()
