"""The call's first leg, named once (``switchboard_call``, fsconf.sections.dialplan): in
the call-record marks' extension, a second condition that only a leg without it passes
and that never stops the document. A leg rung after a caller's blind transfer names its
call by it (cdr.ingest; tests/freeswitch/test_cdr_more_shapes.py)."""

from __future__ import annotations

from lxml import etree

from tests.fsconf.test_call_record_marks import _exported
from tests.fsconf.test_dialplan import call
from tests.fsconf.test_routing import did, public_document  # noqa: F401  (fixture)


def call_mark(root: etree._Element) -> etree._Element:
    first = root.find(".//context/extension")
    assert first.get("name") == "switchboard-call-record"
    conditions = first.findall("condition")
    assert len(conditions) == 2
    return conditions[1]


def test_a_tenant_answer_names_the_first_leg_once(acme_beta):
    condition = call_mark(call("dialplan-acme-1001-to-1002"))
    assert (condition.get("field"), condition.get("expression"), condition.get("break")) == (
        "${switchboard_call}", "^$", "never")
    assert _exported(condition) == {"switchboard_call": "${uuid}"}


def test_a_did_answer_too(did, acme_beta):  # noqa: F811
    condition = call_mark(public_document())
    assert _exported(condition) == {"switchboard_call": "${uuid}"}
