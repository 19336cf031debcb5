"""Call queues through the real xml_curl endpoint: the dialplan for a call to the queue
(dialed, or from a DID), the agent feature codes, the explainer hop by hop against the
dialplan, and callcenter.conf for mod_callcenter (the captured startup and reload
requests, one queue's load with CC-Queue, the cache and its invalidation)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from lxml import etree

from pbx.actions import (
    Agent,
    do_create_queue,
    do_delete_queue,
    do_set_agent_status,
    do_set_queue_agents,
    do_update_extension,
    do_update_queue,
)
from pbx.explain import explain_route
from pbx.models import Extension, MediaStatus, Prompt
from pbx.numbers import do_route_number
from pbx.routing import Outcome
from tests.conftest import route_to
from tests.fsconf.conftest import acme_main_number
from tests.fsconf.replay import Captured, replay, request
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_explain import explained_hops
from tests.fsconf.test_outbound import dial_body
from tests.fsconf.test_routing import DOMAIN, VOICEMAIL_1002, dial, walk

# The bodies of the captured callcenter.conf requests A16, A123 (conf A) and B16 (conf B):
# the five basic fields only (fixtures' configuration-requests.txt).
STARTUP_BODY = (b"hostname=vm&section=configuration&tag_name=configuration&key_name=name"
                b"&key_value=callcenter.conf")


def ext(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


@pytest.fixture
def sales(acme_beta):
    """acme's queue 5000: 1001 always in, 1002 after *62; leaving goes to 1002's box."""
    acme = acme_beta.c1
    queue = do_create_queue(acme, number="5000", name="Sales", max_wait_seconds=120, exit_key="0",
                            caller_id_name_prefix="Sales", fallback=route_to(acme, "voicemail", "1002"))
    do_set_queue_agents(acme, queue, [Agent(ext(acme, "1001")),
                                      Agent(ext(acme, "1002"), level=2, login_required=True)])
    return queue


def queue_actions(queue, fallback: str) -> list[tuple[str, str]]:
    return [("answer", ""), ("set", "hangup_after_bridge=true"), ("set", "cc_export_vars=${export_vars}"),
            ("set", "cc_moh_override=local_stream://moh"), ("set", "hold_music=local_stream://moh"),
            ("set", "cc_outbound_cid_name_prefix=Sales "), ("set", "cc_exit_keys=0"),
            ("callcenter", f"queue-{queue.pk}@{DOMAIN}"), ("transfer", f"~{fallback} XML {DOMAIN}")]


class TestDialplan:
    def test_dialing_the_queue_waits_in_mod_callcenter_then_leaves_for_the_fallback(self, acme_beta, sales):
        box = route_to(acme_beta.c1, "voicemail", "1002")
        hops = walk("5000")
        assert hops[0] == queue_actions(sales, box)
        assert hops[1:] == [VOICEMAIL_1002]

    def test_a_did_routed_to_the_queue(self, acme_beta, sales):
        acme = acme_beta.c1
        number = acme_main_number(acme_beta, "1001")
        do_route_number(acme, number, route=route_to(acme, "queue", "5000"))
        public = actions(etree.fromstring(replay(request("dialplan-public-did-14165550100-external-profile"))
                                          .content))
        assert public[-1] == ("transfer", f"~queue:{sales.pk} XML {DOMAIN}")
        assert dial(f"~queue:{sales.pk}") == queue_actions(sales, route_to(acme, "voicemail", "1002"))
        decisions = explain_route(acme, "+12125550123", "+14165550100")
        hops = explained_hops(decisions, Outcome.NO_ANSWER)
        assert hops[0][-1] == public[-1]
        assert hops[1:] == walk(f"~queue:{sales.pk}")

    def test_greeting_hold_music_and_no_fallback(self, acme_beta, sales, settings):
        settings.FREESWITCH_MEDIA_BASE = "/srv/media"
        acme = acme_beta.c1
        with schema_context(acme.schema_name):
            greeting = Prompt.objects.create(name="Placed in queue", status=MediaStatus.READY,
                                             upload=f"{acme.schema_name}/prompt/placed.wav")
        do_update_queue(acme, sales, greeting=greeting, fallback="", exit_key="", caller_id_name_prefix="")
        found = dial("5000")
        assert found[-3:] == [("playback", f"/srv/media/{acme.schema_name}/prompt/placed.8000.wav"),
                              ("callcenter", f"queue-{sales.pk}@{DOMAIN}"), ("hangup", "NO_ANSWER")]
        assert not any(data.startswith(("cc_exit_keys", "cc_outbound")) for _, data in found)

    def test_the_agent_codes_go_to_the_call_control_app_for_the_calling_extension(self, acme_beta, sales,
                                                                                 settings):
        settings.CALLCONTROL_SOCKET = "10.0.0.5:8084"
        for code, action in (("*62", "login"), ("*062", "logout"), ("*95", "pause"), ("*095", "unpause")):
            assert dial(code) == [
                ("set", f"domain_name={DOMAIN}"), ("set", "switchboard_app=queue_agent"),
                ("set", f"switchboard_ref={action}:{ext(acme_beta.c1, '1001').pk}"),
                ("socket", "10.0.0.5:8084 async full")]
        # The same code from beta's 1001 names beta's own extension, in beta's domain.
        beta = actions(etree.fromstring(replay(dial_body("*62", domain="beta.example.net")).content))
        assert beta[:3] == [("set", "domain_name=beta.example.net"), ("set", "switchboard_app=queue_agent"),
                            ("set", f"switchboard_ref=login:{ext(acme_beta.c2, '1001').pk}")]


class TestExplainer:
    @pytest.mark.parametrize("outcome", [Outcome.NO_ANSWER])
    def test_explanation_matches_the_dialplan_hop_by_hop(self, acme_beta, sales, outcome):
        decisions = explain_route(acme_beta.c1, "1001", "5000")
        assert explained_hops(decisions, outcome) == walk("5000")

    def test_explanation_names_agents_strategy_waits_and_fallback(self, acme_beta, sales):
        do_set_agent_status(acme_beta.c1, ext(acme_beta.c1, "1002"), "login")
        do_set_agent_status(acme_beta.c1, ext(acme_beta.c1, "1001"), "pause")
        text = [str(d) for d in explain_route(acme_beta.c1, "1002", "5000")]
        assert text[1:] == [
            "Call queue 5000 Sales: the caller waits for an agent.",
            "The caller waits in call queue 5000 for an agent.",
            "  Strategy: the agent idle the longest (longest-idle-agent).",
            "  Agent: extension 1001 Acme 1001, level 1 (always in, paused (*95)); rings 20 s.",
            "  Agent: extension 1002 Acme 1002, level 2 (logs in with *62, logged in); rings 20 s.",
            "  Callers wait at most: 120 s; while no agent is logged in: no limit.",
            "  Pressing 0 leaves the queue.",
            "  If the wait ends without an agent:",
            "    Goes to Voicemail box 1002 Acme 1002.",
            "    Voicemail box 1002 takes a message.",
        ]


def fetch(body: bytes = STARTUP_BODY, *, credentials: bool = True) -> etree._Element:
    """callcenter.conf as mod_callcenter asks: with conf A's headers (the captured
    sofia.conf request of the same startup) or conf B's (no credentials)."""
    template = request("configuration-sofia.conf-startup" if credentials
                       else "directory-sip_auth-register-acme-1002-no-gateway-credentials")
    answer = replay(Captured("callcenter", "POST", template.path, template.headers, body))
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "text/xml"
    root = etree.fromstring(answer.content)
    assert root.find("section").get("name") == "configuration"
    (configuration,) = root.findall("section/configuration")
    assert configuration.get("name") == "callcenter.conf"
    return configuration


def for_queue(name: str) -> bytes:
    """mod_callcenter loading one queue (load_queue): the event carries CC-Queue."""
    return STARTUP_BODY + b"&Event-Name=REQUEST_PARAMS&CC-Queue=" + name.replace("@", "%40").encode()


def contents(configuration: etree._Element) -> dict:
    return {
        "settings": {p.get("name"): p.get("value") for p in configuration.findall("settings/param")},
        "queues": {q.get("name"): {p.get("name"): p.get("value") for p in q.findall("param")}
                   for q in configuration.findall("queues/queue")},
        "agents": {a.get("name"): dict(a.attrib) for a in configuration.findall("agents/agent")},
        "tiers": [dict(t.attrib) for t in configuration.findall("tiers/tier")],
    }


class TestCallcenterConf:
    def test_the_captured_startup_requests_get_every_tenants_queues(self, acme_beta, sales, settings):
        settings.FREESWITCH_MEDIA_BASE = "/srv/media"
        acme, beta = acme_beta.c1, acme_beta.c2
        with schema_context(acme.schema_name):
            still = Prompt.objects.create(name="Still in queue", status=MediaStatus.READY,
                                          upload=f"{acme.schema_name}/prompt/still.mp3")
        do_update_queue(acme, sales, announcement=still, announcement_seconds=45, record_calls=True,
                        tier_rules_apply=True, tier_rule_wait_seconds=30, strategy="top-down")
        theirs = do_create_queue(beta, number="5000", name="Beta sales", strategy="ring-all")
        do_set_queue_agents(beta, theirs, [Agent(ext(beta, "1001"))])
        a1001, a1002 = f"agent-{sales.pk}-{ext(acme, '1001').pk}@{DOMAIN}", \
            f"agent-{sales.pk}-{ext(acme, '1002').pk}@{DOMAIN}"
        b1001 = f"agent-{theirs.pk}-{ext(beta, '1001').pk}@beta.example.net"
        ours, other = f"queue-{sales.pk}@{DOMAIN}", f"queue-{theirs.pk}@beta.example.net"
        timing = {"type": "callback", "max-no-answer": "3", "wrap-up-time": "10", "reject-delay-time": "10",
                  "busy-delay-time": "60", "no-answer-delay-time": "30"}
        for credentials in (True, False):  # A16 and A123 (conf A), B16 (conf B)
            settings.FREESWITCH_GATEWAY_CREDENTIALS = "fsxml:s3cret-xml" if credentials else ""
            found = contents(fetch(credentials=credentials))
            assert found["settings"] == {"truncate-agents-on-load": "true", "truncate-tiers-on-load": "true"}
            assert set(found["queues"]) == {ours, other}  # the same number, two tenants, two names
            assert found["queues"][ours] == {
                "strategy": "top-down", "moh-sound": "local_stream://moh", "time-base-score": "queue",
                "max-wait-time": "120", "max-wait-time-with-no-agent": "0", "tier-rules-apply": "true",
                "tier-rule-wait-second": "30", "tier-rule-wait-multiply-level": "false",
                "tier-rule-no-agent-no-wait": "true", "discard-abandoned-after": "60",
                "abandoned-resume-allowed": "false",
                "announce-sound": f"/srv/media/{acme.schema_name}/prompt/still.8000.wav",
                "announce-frequency": "45",
                "record-template": (f"/var/lib/freeswitch/recordings/queues/{acme.schema_name}/"
                                    f"queue-{sales.pk}/${{strftime(%Y%m%d-%H%M%S)}}-${{uuid}}.wav"),
            }
            assert found["queues"][other]["strategy"] == "ring-all"
            assert found["agents"] == {
                a1001: {"name": a1001, "contact": f"[leg_timeout=20]user/1001@{DOMAIN}",
                        "status": "Available", **timing},
                a1002: {"name": a1002, "contact": f"[leg_timeout=20]user/1002@{DOMAIN}",
                        "status": "Logged Out", **timing},
                b1001: {"name": b1001, "contact": "[leg_timeout=20]user/1001@beta.example.net",
                        "status": "Available", **timing},
            }
            assert found["tiers"] == [
                {"agent": a1001, "queue": ours, "level": "1", "position": "1"},
                {"agent": a1002, "queue": ours, "level": "2", "position": "2"},
                {"agent": b1001, "queue": other, "level": "1", "position": "1"},
            ]

    def test_without_queues_mod_callcenter_still_gets_a_document(self, acme_beta):
        found = contents(fetch())
        assert found == {"settings": {"truncate-agents-on-load": "true", "truncate-tiers-on-load": "true"},
                         "queues": {}, "agents": {}, "tiers": []}

    def test_one_queues_load_gets_that_queue_only(self, acme_beta, sales):
        """From beta's side: loading beta's queue never shows acme's, whatever the name."""
        beta = acme_beta.c2
        theirs = do_create_queue(beta, number="5000", name="Beta sales")
        do_set_queue_agents(beta, theirs, [Agent(ext(beta, "1002"))])
        name = f"queue-{theirs.pk}@beta.example.net"
        configuration = fetch(for_queue(name))
        found = contents(configuration)
        assert list(found["queues"]) == [name]
        assert [t["queue"] for t in found["tiers"]] == [name]
        assert b"acme" not in etree.tostring(configuration)
        for other in (f"queue-{sales.pk + 100}@beta.example.net", "support@default",
                      f"queue-{sales.pk}@nowhere.example.net"):
            assert contents(fetch(for_queue(other)))["queues"] == {}

    def test_every_write_shows_in_the_next_fetch(self, acme_beta, committed, django_assert_num_queries):
        acme = acme_beta.c1
        assert contents(fetch())["queues"] == {}
        with django_assert_num_queries(0):
            fetch()  # cached
        uncommitted = do_create_queue(acme, number="5001", name="Not yet")
        assert contents(fetch())["queues"] == {}  # nothing invalidated before the commit
        with committed():
            queue = do_create_queue(acme, number="5000", name="Sales")
        name = f"queue-{queue.pk}@{DOMAIN}"
        with django_assert_num_queries(3):  # whatever the number of tenants
            assert set(contents(fetch())["queues"]) == {name, f"queue-{uncommitted.pk}@{DOMAIN}"}
        with committed():
            do_set_queue_agents(acme, queue, [Agent(ext(acme, "1001"), login_required=True)])
        agent = f"agent-{queue.pk}-{ext(acme, '1001').pk}@{DOMAIN}"
        assert contents(fetch())["agents"][agent]["status"] == "Logged Out"
        with committed():
            do_set_agent_status(acme, ext(acme, "1001"), "login")
        assert contents(fetch())["agents"][agent]["status"] == "Available"
        with committed():
            do_update_extension(acme, ext(acme, "1001"), number="1011")
        assert contents(fetch())["agents"][agent]["contact"] == f"[leg_timeout=20]user/1011@{DOMAIN}"
        with committed():
            do_update_queue(acme, queue, strategy="random")
        assert contents(fetch())["queues"][name]["strategy"] == "random"
        with committed():
            do_delete_queue(acme, queue)
        assert name not in contents(fetch())["queues"]
