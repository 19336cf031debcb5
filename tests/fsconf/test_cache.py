"""The document cache: warm answers touch no database, every write is visible in the
very next fetch (a property over random write sequences), and when PostgreSQL is
unreachable the last known good answer is served, marked stale."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from carriers.actions import do_update_trunk
from fsconf.request import parse_fetch_body
from fsconf.sections import SECTIONS
from pbx.actions import (
    do_add_device,
    do_create_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.models import Device, Extension
from pbx.numbers import do_route_number
from tenants.actions import (
    do_reactivate_account,
    do_set_domains,
    do_suspend_account,
    do_update_account,
)
from tests.conftest import route_to
from tests.fsconf.replay import Captured, replay, request
from tests.fsconf.test_outbound import dial_body

REQUESTS = {
    "register acme 1001": ("directory-sip_auth-register-acme-1001-a1hash-ok", {}),
    "register acme 1002": ("directory-sip_auth-register-acme-1001-a1hash-ok", {"1001": "1002"}),
    "register acme 1001-2": ("directory-sip_auth-register-acme-1001-a1hash-ok", {"=1001": "=1001-2"}),
    "register beta 1001": ("directory-sip_auth-register-beta-1001-password-ok", {}),
    "user_call acme 1002": ("directory-user_call-acme-1002", {}),
    "call 1001 to 1002": ("dialplan-acme-1001-to-1002", {}),
    "call 1001 to 1003": ("dialplan-acme-1001-to-1002",
                          {"Destination-Number=1002": "Destination-Number=1003"}),
    "inbound DID": ("dialplan-public-did-14165550100-external-profile", {}),
    "gateways": ("directory-gateways-startup-profile-internal", {}),
    "sofia.conf": ("configuration-sofia.conf-startup", {}),
}


def body_of(name: str, replacements: dict[str, str]) -> Captured:
    captured = request(name)
    body = captured.body
    for old, new in replacements.items():
        body = body.replace(old.encode(), new.encode())
    return Captured(captured.name, captured.method, captured.path, captured.headers, body)


def served(captured: Captured) -> bytes:
    response = replay(captured)
    assert response.status_code == 200
    assert "X-Switchboard-Stale" not in response
    return response.content


def fresh(captured: Captured) -> bytes:
    """What the section renders from the database right now, bypassing the cache."""
    fetch = parse_fetch_body(captured.body)
    return SECTIONS[fetch.section].answer(fetch)


def all_requests(tree) -> dict[str, Captured]:
    found = {label: body_of(name, replacements) for label, (name, replacements) in REQUESTS.items()}
    found["outbound call"] = dial_body("4165550123")
    return found


def test_warm_fetch_reads_no_database_and_is_identical(platform):
    for label, captured in all_requests(platform).items():
        cold = served(captured)
        with CaptureQueriesContext(connection) as queries:
            warm = served(captured)
        assert warm == cold, label
        assert [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")] == [], label


def _extension(account, number):
    with schema_context(account.schema_name):
        return Extension.objects.filter(number=number).first()


def _device(account, username):
    with schema_context(account.schema_name):
        return Device.objects.filter(username=username).first()


def write(tree, step: tuple) -> None:
    """One write through the actions layer; refusals (a ValidationError) change nothing
    and are part of what is tested."""
    kind, value = step
    acme, r1_admin, master = tree.c1, tree.user("r1_admin"), tree.user("master_admin")
    if kind == "rename":
        do_update_extension(acme, _extension(acme, "1001"), name=value)
    elif kind == "ring":
        do_update_extension(acme, _extension(acme, "1002"), ring_seconds=value)
    elif kind == "enable_1002":
        do_update_extension(acme, _extension(acme, "1002"), enabled=value)
    elif kind == "voicemail_1002":
        do_update_extension(acme, _extension(acme, "1002"), voicemail_enabled=value)
    elif kind == "rotate":
        do_update_device(acme, _device(acme, "1001"), new_secret=value)
    elif kind == "disable_device":
        do_update_device(acme, _device(acme, "1001"), enabled=value)
    elif kind == "second_device":
        existing = _device(acme, "1001-2")
        if existing:
            do_remove_device(acme, existing)
        else:
            do_add_device(acme, _extension(acme, "1001"), username="1001-2", secret=value)
    elif kind == "extension_1003":
        existing = _extension(acme, "1003")
        if existing is None:
            do_create_extension(acme, number="1003", name=value)
        else:
            do_update_extension(acme, existing, enabled=not existing.enabled)
    elif kind == "suspend":
        (do_suspend_account if value else do_reactivate_account)(master, tree.r1)
    elif kind == "limit":
        do_update_account(r1_admin, acme, max_concurrent_calls=value)
    elif kind == "alias":
        do_set_domains(r1_admin, acme, primary="acme.example.net", aliases=[value])
    elif kind == "route":
        from tenants.models import PhoneNumber
        do_route_number(acme, PhoneNumber.objects.get(e164="+14165550100"),
                        route=route_to(acme, *value))
    elif kind == "trunk":
        from carriers.models import Trunk
        do_update_trunk(master, Trunk.objects.get(name="A"), weight_cost=value[0], enabled=value[1])
    elif kind == "beta_rename":
        do_update_extension(tree.c2, _extension(tree.c2, "1001"), name=value)


name = st.text(alphabet="abcXYZ <>&'\"é", min_size=1, max_size=12).map(str.strip).filter(bool)
STEPS = st.one_of(
    st.tuples(st.just("rename"), name),
    st.tuples(st.just("ring"), st.integers(5, 300)),
    st.tuples(st.just("enable_1002"), st.booleans()),
    st.tuples(st.just("voicemail_1002"), st.booleans()),
    st.tuples(st.just("rotate"), st.text(alphabet="abcdef0123456789", min_size=8, max_size=20)),
    st.tuples(st.just("disable_device"), st.booleans()),
    st.tuples(st.just("second_device"), st.just("second-secret-1")),
    st.tuples(st.just("extension_1003"), name),
    st.tuples(st.just("suspend"), st.booleans()),
    st.tuples(st.just("limit"), st.integers(1, 10)),
    st.tuples(st.just("alias"), st.sampled_from(["acme.localhost", "pbx.acme.example.org"])),
    st.tuples(st.just("route"), st.sampled_from([("extension", "1001"), ("extension", "1002"),
                                                 ("voicemail", "1001")])),
    st.tuples(st.just("trunk"), st.tuples(st.integers(0, 100), st.booleans())),
    st.tuples(st.just("beta_rename"), name),
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=8))
def test_every_write_is_visible_in_the_next_fetch(platform, committed, steps):
    from django.core.exceptions import ValidationError

    requests = all_requests(platform)
    for captured in requests.values():
        served(captured)  # warm everything
    for step in steps:
        try:
            with committed():
                write(platform, step)
        except ValidationError:
            pass
        for label, captured in requests.items():
            assert served(captured) == fresh(captured), f"stale {label} after {step}"


def test_directory_change_is_seen_by_a_warm_cache(platform, committed):
    """The plain case the property covers, spelled out: rotate a secret, the next
    REGISTER lookup carries the new a1-hash."""
    captured = body_of(*REQUESTS["register acme 1001"])
    before = served(captured)
    with committed():
        do_update_device(platform.c1, _device(platform.c1, "1001"), new_secret="rotated-secret")
    after = served(captured)
    assert before != after
    hashes = [etree.fromstring(doc).find(".//param[@name='a1-hash']").get("value") for doc in (before, after)]
    from common.secrets import a1_hash
    assert hashes[1] == a1_hash("1001", "acme.example.net", "rotated-secret")


@pytest.fixture
def database_down():
    """PostgreSQL unreachable: the connection is closed and its address points at a port
    nothing listens on, so the next query fails as it would in an outage."""
    original = dict(connection.settings_dict)

    def cut() -> None:
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")

    yield cut
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_database_down_serves_the_last_known_good_answer_marked_stale(platform, committed, database_down):
    requests = all_requests(platform)
    captured = requests["register acme 1001"]
    # A request never answered before (earlier tests' answers stay in the cache, as they
    # would in production).
    unseen = body_of("directory-sip_auth-register-acme-1001-a1hash-ok",
                     {"=1001": f"={uuid.uuid4().hex[:12]}"})
    known = served(captured)
    # Make the cached answer out of date, then lose the database before anyone re-fetches.
    with committed():
        do_update_extension(platform.c1, _extension(platform.c1, "1001"), name="Renamed")
    database_down()
    response = replay(captured)
    assert response.status_code == 200
    assert response.content == known
    assert "last known good" in response["X-Switchboard-Stale"]
    # Never cached: FreeSWITCH should try its next binding.
    lost = replay(unseen)
    assert lost.status_code == 503, lost.content


def test_cache_outage_answers_from_the_database(platform, settings):
    settings.CACHES = {**settings.CACHES, "fsconf": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }}
    captured = body_of(*REQUESTS["register acme 1001"])
    assert served(captured) == fresh(captured)


def test_deleted_extension_is_gone_from_the_next_fetch(platform, committed):
    from pbx.actions import do_delete_extension

    captured = body_of(*REQUESTS["register acme 1002"])
    assert b"a1-hash" in served(captured)
    with committed():
        do_delete_extension(platform.c1, _extension(platform.c1, "1002"))
    after = etree.fromstring(served(captured))
    assert after.find(".//result").get("status") == "not found"
    with schema_context(platform.c1.schema_name):
        assert not Device.objects.filter(username="1002").exists()
