"""Call blocking: the actions, and the decision as a function and as the PCRE expression
the dialplan matches caller_id_number with (checked with Python's re and, where the
library is installed, with PCRE2 itself, the engine FreeSWITCH uses)."""

from __future__ import annotations

import ctypes
import ctypes.util
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from pbx.actions import do_add_call_block, do_remove_call_block, do_update_call_block
from pbx.blocking import NOTHING, blocked, incoming_pattern, normalize_pattern
from pbx.models import CallBlock
from tests.pbx.routing_helpers import exists, extension, last_event, refused, reload

# --- the stored pattern ---------------------------------------------------------------


@pytest.mark.parametrize(("raw", "country", "stored"), [
    ("+1 (416) 555-0100", "US", "+14165550100"),
    ("416-555-0100", "US", "+14165550100"),
    ("1 416 555 0100", "US", "+14165550100"),
    ("020 7946 0000", "GB", "+442079460000"),
    ("011 44 20 7946 0000", "US", "+442079460000"),
    ("+1900*", "US", "+1900*"),
    ("900*", "US", "+1900*"),
    ("1900*", "US", "+1900*"),
    ("0207*", "GB", "+44207*"),
    ("00 33*", "GB", "+33*"),
    ("+7*", "US", "+7*"),
])
def test_patterns_are_stored_in_e164(raw, country, stored):
    assert normalize_pattern(raw, country) == stored


@pytest.mark.parametrize("raw", ["", "abc", "12345", "+1416555*0", "+0*", "+1234567890123456*",
                                 "+1 416 555 01000"])
def test_what_is_not_a_number_or_prefix_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_pattern(raw, "US")


# --- the decision -----------------------------------------------------------------------


def block(pattern="", anonymous=False, direction="incoming", pk=None) -> CallBlock:
    return CallBlock(pk=pk, pattern=pattern, anonymous=anonymous, direction=direction)


NUMBER = block("+12125551234", pk=1)
PREFIX = block("+1900*", direction="both", pk=2)
LONGER = block("+1900555*", pk=3)
UK = block("+442079460000", pk=4)
ANONYMOUS = block(anonymous=True, pk=5)
OUTGOING = block("+33*", direction="outgoing", pk=6)
ALL = [NUMBER, PREFIX, LONGER, UK, ANONYMOUS, OUTGOING]

# (caller_id_number as FreeSWITCH sets it, the block that stops the incoming call)
INCOMING = [
    ("+12125551234", NUMBER),  # as in the captured DID call (Caller-Caller-ID-Number)
    ("12125551234", NUMBER),
    ("2125551234", NUMBER),  # national form, the account being in the US
    ("+12125551235", None),
    ("212555123", None),
    ("121255512345", None),
    ("+19005551111", LONGER),  # the longer prefix is more specific
    ("+19001234567", PREFIX),
    ("9001234567", PREFIX),
    ("+1800900", None),
    ("+442079460000", UK),
    ("442079460000", UK),
    ("2079460000", None),  # national only in the UK, not for a US account
    ("+33123456789", None),  # blocked outgoing only
    ("", ANONYMOUS),
    ("anonymous", ANONYMOUS),
    ("Anonymous", ANONYMOUS),
    ("ANONYMOUS", ANONYMOUS),
    ("unknown", ANONYMOUS),
    ("Restricted", ANONYMOUS),
    ("0000000000", ANONYMOUS),  # FreeSWITCH's placeholder for a call without a number
    ("1001", None),
    ("anonymous1", None),
    ("x+12125551234", None),
]


@pytest.mark.parametrize(("number", "expected"), INCOMING)
def test_blocked_incoming(number, expected):
    assert blocked(ALL, number, "incoming", country="US") is expected


def test_blocked_outgoing_uses_outgoing_and_both_blocks():
    assert blocked(ALL, "+33123456789", "outgoing", country="US") is OUTGOING
    assert blocked(ALL, "+19001234567", "outgoing", country="US") is PREFIX
    assert blocked(ALL, "+12125551234", "outgoing", country="US") is None


def test_national_forms_follow_the_account_country():
    assert blocked([UK], "02079460000", "incoming", country="GB") is UK
    assert blocked([UK], "2079460000", "incoming", country="GB") is UK
    assert blocked([NUMBER], "2125551234", "incoming", country="GB") is None
    assert blocked([NUMBER], "2125551234", "incoming") is None


def _pcre2():
    name = ctypes.util.find_library("pcre2-8")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                    ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.c_void_p]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.restype = ctypes.c_int
    lib.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                  ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_data_free_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
    return lib


def pcre2_search(pattern: str, subject: str) -> bool:
    """Whether PCRE2 finds ``pattern`` in ``subject``, unanchored, as a dialplan
    condition's expression is applied."""
    lib = _pcre2()
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    raw = pattern.encode()
    code = lib.pcre2_compile_8(raw, len(raw), 0, ctypes.byref(error), ctypes.byref(offset), None)
    assert code, f"PCRE2 refused the expression (error {error.value} at {offset.value})"
    data = lib.pcre2_match_data_create_from_pattern_8(code, None)
    try:
        text = subject.encode()
        found = lib.pcre2_match_8(code, text, len(text), 0, 0, data, None)
        assert found >= -1, f"PCRE2 match error {found}"
        return found >= 0
    finally:
        lib.pcre2_match_data_free_8(data)
        lib.pcre2_code_free_8(code)


def test_pcre2_is_there_to_check_the_expressions():
    """The tests below also run each expression through PCRE2, the engine FreeSWITCH
    matches dialplan conditions with: the system's libpcre2-8, which every Debian/Ubuntu
    base system has (grep needs it); found through /sbin/ldconfig, so not through PATH.
    Without it they check with Python's re only: say so rather than pass quietly."""
    if _pcre2() is None:
        pytest.skip("libpcre2-8 not found (Debian/Ubuntu: libpcre2-8-0): the dialplan "
                    "expressions were checked with Python's re only, not with PCRE2")


@pytest.mark.parametrize(("number", "expected"), INCOMING)
def test_the_dialplan_expression_matches_what_is_blocked(number, expected):
    expression = incoming_pattern(ALL, country="US")
    assert bool(re.search(expression, number)) is (expected is not None)
    if _pcre2() is not None:
        assert pcre2_search(expression, number) is (expected is not None)


def test_the_expression_is_plain_pcre():
    expression = incoming_pattern([NUMBER, PREFIX, ANONYMOUS], country="US")
    assert expression == (r"^(?:\+?12125551234|2125551234|\+?1900\d*|900\d*"
                          r"|(?i:anonymous|unknown|restricted|private|unavailable)|0000000000|)$")


def test_without_incoming_blocks_the_expression_matches_nothing():
    assert incoming_pattern([OUTGOING]) == NOTHING
    for number in ("", "anonymous", "+12125551234", "1001"):
        assert re.search(NOTHING, number) is None
        if _pcre2() is not None:
            assert pcre2_search(NOTHING, number) is False


# --- the actions ------------------------------------------------------------------------


def test_add_a_block_in_national_form(tree):
    created = do_add_call_block(tree.c1, pattern="(212) 555-1234", comment="Robocaller")
    stored = reload(tree.c1, created)
    assert (stored.pattern, stored.direction, stored.comment) == ("+12125551234", "incoming", "Robocaller")
    assert last_event(tree.c1, "call_block.create").details == {
        "pattern": "+12125551234", "anonymous": False, "direction": "incoming"}


def test_national_input_reads_as_the_accounts_country(tree):
    tree.c1.country = "GB"
    tree.c1.save(update_fields=["country"])
    assert do_add_call_block(tree.c1, pattern="020 7946 0000").pattern == "+442079460000"


def test_duplicates_are_refused_whatever_the_spelling(tree):
    do_add_call_block(tree.c1, pattern="+12125551234", direction="outgoing")
    with refused("pattern") as error:
        do_add_call_block(tree.c1, pattern="212-555-1234")
    assert error.messages == ["+12125551234 is already blocked (outgoing); change that block instead."]
    do_add_call_block(tree.c1, anonymous=True)
    with refused("anonymous"):
        do_add_call_block(tree.c1, anonymous=True, direction="both")


@pytest.mark.parametrize(("fields", "field"), [
    ({"pattern": "+12125551234", "anonymous": True}, "pattern"),
    ({}, "pattern"),
    ({"pattern": "hello"}, "pattern"),
    ({"pattern": "+12125551234", "direction": "sideways"}, "direction"),
    ({"pattern": "+12125551234", "comment": "line\nbreak"}, "comment"),
])
def test_fields_are_checked(tree, fields, field):
    with refused(field):
        do_add_call_block(tree.c1, **fields)
    with schema_context(tree.c1.schema_name):
        assert not CallBlock.objects.exists()


def test_update_and_remove(tree, committed):
    created = do_add_call_block(tree.c1, pattern="+1900*")
    do_update_call_block(tree.c1, created, direction="both", pattern="1 800*")
    stored = reload(tree.c1, created)
    assert (stored.pattern, stored.direction) == ("+1800*", "both")
    do_update_call_block(tree.c1, created, anonymous=True)
    stored = reload(tree.c1, created)
    assert (stored.pattern, stored.anonymous) == ("", True)
    assert str(stored) == "Anonymous callers"
    with committed():
        do_remove_call_block(tree.c1, created)
    assert not exists(tree.c1, created)
    assert last_event(tree.c1, "call_block.delete").details == {"pattern": "", "anonymous": True}


def test_another_tenants_blocks_are_out_of_reach(tree):
    do_add_call_block(tree.c1, pattern="+12125550001")
    victim = do_add_call_block(tree.c1, pattern="+12125551234")
    mine = do_add_call_block(tree.c2, pattern="+12125551234")
    assert victim.pk != mine.pk
    with pytest.raises(CallBlock.DoesNotExist):
        do_update_call_block(tree.c2, victim, direction="both")
    with pytest.raises(CallBlock.DoesNotExist):
        do_remove_call_block(tree.c2, victim)
    assert reload(tree.c1, victim).direction == "incoming"


# --- an extension's own blocks (My phone) -----------------------------------------------


@pytest.fixture
def office(tree):
    """Extensions 1001 (Alice, with her My phone login) and 1002 (Bob) of c1."""
    from pbx.actions.endusers import do_invite_end_user

    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    login = do_invite_end_user(tree.c1, alice, email="alice@example.com", actor=tree.user("c1_admin"),
                               send=False)
    return alice, bob, login


def _blocks(account) -> list[tuple]:
    with schema_context(account.schema_name):
        return list(CallBlock.objects.order_by("pk").values_list("pattern", "anonymous", "direction",
                                                                 "extension_id"))


def test_a_block_belongs_to_the_account_or_to_one_extension(tree, office):
    alice, bob, _login = office
    do_add_call_block(tree.c1, pattern="+12125551234")
    mine = do_add_call_block(tree.c1, pattern="+12125551234", extension=alice, direction="both")
    do_add_call_block(tree.c1, pattern="+12125551234", extension=bob.pk)
    assert _blocks(tree.c1) == [("+12125551234", False, "incoming", None),
                                ("+12125551234", False, "both", alice.pk),
                                ("+12125551234", False, "incoming", bob.pk)]
    assert last_event(tree.c1, "call_block.create").details == {
        "pattern": "+12125551234", "anonymous": False, "extension": "1002", "direction": "incoming"}
    # Within one scope the same rules as the account's: one block per number or anonymous.
    with refused("pattern") as error:
        do_add_call_block(tree.c1, pattern="212 555 1234", extension=alice, direction="outgoing")
    assert error.messages == ["+12125551234 is already blocked (both); change that block instead."]
    do_add_call_block(tree.c1, anonymous=True, extension=alice)
    with refused("anonymous"):
        do_add_call_block(tree.c1, anonymous=True, extension=alice.pk, direction="both")
    with refused("pattern"):
        do_add_call_block(tree.c1, pattern="hello", extension=alice)
    with refused("extension"):
        do_add_call_block(tree.c1, pattern="+12125550000", extension=999999)
    # Moved to Bob's scope, where the number is already blocked.
    with refused("pattern"):
        do_update_call_block(tree.c1, mine, extension=bob)
    with refused("pattern"):
        do_update_call_block(tree.c1, mine, extension=None)  # nor to the account's
    assert reload(tree.c1, mine).extension_id == alice.pk


def test_deleting_the_extension_deletes_its_blocks(tree, office):
    from pbx.actions import do_delete_extension

    alice, bob, _login = office
    do_add_call_block(tree.c1, pattern="+1900*")
    do_add_call_block(tree.c1, pattern="+12125551234", extension=alice)
    do_add_call_block(tree.c1, pattern="+12125551234", extension=bob)
    do_delete_extension(tree.c1, bob)
    assert _blocks(tree.c1) == [("+1900*", False, "incoming", None),
                                ("+12125551234", False, "incoming", alice.pk)]


def test_the_end_user_manages_their_own_extensions_blocks_only(tree, office):
    alice, bob, login = office
    own = do_add_call_block(tree.c1, pattern="+12125551234", extension=alice, actor=login, ip="192.0.2.9")
    event = last_event(tree.c1, "call_block.create")
    assert (event.actor, event.ip, event.details["extension"]) == (login, "192.0.2.9", "1001")
    do_update_call_block(tree.c1, own, direction="both", actor=login)
    bobs = do_add_call_block(tree.c1, pattern="+12125559999", extension=bob)
    accounts = do_add_call_block(tree.c1, pattern="+1900*")
    before = _blocks(tree.c1)
    # Another extension's, an extension that does not exist (the same refusal: whether it
    # exists is not the login's to learn), the account's, and moving their own away.
    for write in (
        lambda: do_add_call_block(tree.c1, pattern="+12125550000", extension=bob, actor=login),
        lambda: do_add_call_block(tree.c1, pattern="+12125550000", extension=999999, actor=login),
        lambda: do_add_call_block(tree.c1, pattern="+12125550000", actor=login),
        lambda: do_update_call_block(tree.c1, bobs, comment="mine now", actor=login),
        lambda: do_update_call_block(tree.c1, own, extension=bob, actor=login),
        lambda: do_update_call_block(tree.c1, own, extension=None, actor=login),
        lambda: do_remove_call_block(tree.c1, bobs, actor=login),
        lambda: do_remove_call_block(tree.c1, accounts, actor=login),
        # Bob's block passed with a forged owner: the stored row decides.
        lambda: do_remove_call_block(tree.c1, CallBlock(pk=bobs.pk, extension_id=alice.pk), actor=login),
        lambda: do_update_call_block(tree.c1, CallBlock(pk=bobs.pk, extension_id=alice.pk),
                                     comment="mine now", actor=login),
    ):
        with pytest.raises(PermissionDenied) as refusal:
            write()
        assert str(refusal.value) == "Your login manages only your own phone."
    assert _blocks(tree.c1) == before
    do_remove_call_block(tree.c1, own, actor=login)
    assert not exists(tree.c1, own)


@pytest.mark.parametrize("role", ["r1_readonly", "r1_activation"])
def test_read_only_changes_no_block(tree, office, role):
    alice, _bob, _login = office
    own = do_add_call_block(tree.c1, pattern="+12125551234", extension=alice)
    before = _blocks(tree.c1)
    actor = tree.user(role)
    for write in (lambda: do_add_call_block(tree.c1, pattern="+1900*", extension=alice, actor=actor),
                  lambda: do_add_call_block(tree.c1, pattern="+1900*", actor=actor),
                  lambda: do_update_call_block(tree.c1, own, direction="both", actor=actor),
                  lambda: do_remove_call_block(tree.c1, own, actor=actor)):
        with pytest.raises(PermissionDenied, match="read-only"):
            write()
    assert _blocks(tree.c1) == before
