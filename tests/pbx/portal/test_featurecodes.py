"""The feature-code page lists every code of the dialplan's tables, each in words, and
the tenant's ring-group pickup codes."""

from __future__ import annotations

from pbx.actions.ringgroups import do_update_ring_group
from pbx.portal.views.featurecodes import AGENT_WORDS, FORWARD_WORDS, SWITCH_WORDS
from pbx.routing import AGENT_CODES, CHECK_ANY_VOICEMAIL, CHECK_OWN_VOICEMAIL, FORWARD_ON_CODES, SWITCH_CODES
from tests.pbx.portal.conftest import World


def test_every_code_of_the_dialplan_is_listed_in_words(world: World):
    do_update_ring_group(world.account, world.group, pickup_code="*82000")
    page = world.browser("read_only").get("/feature-codes/").content.decode()
    for code in [CHECK_OWN_VOICEMAIL, CHECK_ANY_VOICEMAIL, *SWITCH_CODES, *AGENT_CODES]:
        assert f"<code>{code}</code>" in page, code
    for code in FORWARD_ON_CODES:
        assert f"<code>{code}&lt;number&gt;</code>" in page, code
    assert "<code>*8&lt;extension&gt;</code>" in page
    assert "<code>*82000</code>" in page and "ring group 2000 Sales" in page
    # Each action of the tables has its words (a new one added there is not left as a name).
    assert set(FORWARD_ON_CODES.values()) <= set(FORWARD_WORDS)
    assert set(SWITCH_CODES.values()) <= set(SWITCH_WORDS)
    assert set(AGENT_CODES.values()) <= set(AGENT_WORDS)
