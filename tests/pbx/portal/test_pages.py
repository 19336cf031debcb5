"""Every portal page and every role, generated from one declaration per page (``PAGES``).

For each page: the roles that write through it (the admin; on the call queue pages the
call-center supervisor too) read it with its write buttons and write through it; the
read-only roles (read-only, user activation, and the supervisor everywhere else) read what
there is to read, get no write buttons, and have every write refused (403) with nothing
changed; an anonymous
visitor is sent to sign in; another tenant's admin is refused on this tenant's host, and
on their own host this tenant's ids are 404 with nothing changed.

``test_every_portal_url_is_declared`` walks the portal's URLconf: a new page without a
declaration here (or in ``COVERED_ELSEWHERE``) fails the suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, reverse

from pbx.actions.media import do_add_moh_track
from pbx.portal import urls as portal_urls
from tenants.models import AuditEvent
from tests.pbx.portal.conftest import OTHER_HOST, World, state, wav
from tests.pbx.portal.test_myphone import MY_PHONE_COVERED_HERE, MY_PHONE_PAGES

READ_ONLY_ROLES = ("read_only", "user_activation", "supervisor")
# The call-center supervisor manages the call queues (pbx.actions.queues.QUEUE_WRITERS).
QUEUE_WRITERS = ("admin", "supervisor")

Data = Callable[[World], dict[str, Any]]


def _no_destination(*names: str) -> dict[str, str]:
    return {f"{name}_kind": "" for name in names}


def extension_data(number: str, name: str) -> dict[str, Any]:
    return {"number": number, "name": name, "enabled": "on", "call_permission": "domestic",
            "ring_seconds": "25", "call_waiting": "on", "voicemail_enabled": "on",
            **_no_destination("forward_all_to", "forward_busy_to", "forward_no_answer_to",
                              "forward_unregistered_to")}


def ring_group_data(number: str, name: str) -> dict[str, Any]:
    return {"number": number, "name": name, "strategy": "simultaneous", "ring_seconds": "25",
            "repeat": "0", **_no_destination("fallback")}


def ivr_data(name: str, number: str) -> dict[str, Any]:
    return {"name": name, "number": number, "attendant_timeout": "5", "digit_timeout": "3",
            "max_attempts": "3", "dial_by_extension": "on", **_no_destination("exit_destination")}


@dataclass(frozen=True)
class Page:
    name: str
    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    query: Callable[[World], str] = lambda world: ""
    # Read-only roles may look at it (200); False: it only leads to a write (403 for them).
    readable: bool = True
    # What an admin posts to write through it (None: the page writes nothing).
    post: Data | None = None
    admin_post_status: int = 302
    # Words the admin's page shows that a read-only person's must not (write buttons).
    write_markers: tuple[str, ...] = field(default=())
    # Only takes a POST: a GET goes back to the object's page (302).
    post_only: bool = False
    # What the admin's write needs first (a second track to move), done before it.
    prepare: Callable[[World], Any] | None = None
    # The people who write through it (the admin's tests below are theirs); every other
    # staff role of READ_ONLY_ROLES is read-only here.
    writers: tuple[str, ...] = ("admin",)

    def url(self, world: World) -> str:
        query = self.query(world)
        return reverse(f"portal:{self.name}", kwargs=self.kwargs(world)) + (f"?{query}" if query else "")


extension_pk = lambda world: {"pk": world.extension.pk}  # noqa: E731
spare_pk = lambda world: {"pk": world.spare.pk}  # noqa: E731
device_pk = lambda world: {"pk": world.device.pk}  # noqa: E731
group_pk = lambda world: {"pk": world.group.pk}  # noqa: E731
room_pk = lambda world: {"pk": world.room.pk}  # noqa: E731
block_pk = lambda world: {"pk": world.block.pk}  # noqa: E731
number_pk = lambda world: {"pk": world.number.pk}  # noqa: E731
ivr_pk = lambda world: {"pk": world.ivr.pk}  # noqa: E731
box_pk = lambda world: {"pk": world.box.pk}  # noqa: E731
message_kwargs = lambda world: {"pk": world.box.pk, "uuid": world.message.uuid}  # noqa: E731
schedule_pk = lambda world: {"pk": world.schedule.pk}  # noqa: E731
event_pk = lambda world: {"pk": world.event.pk}  # noqa: E731
queue_pk = lambda world: {"pk": world.queue.pk}  # noqa: E731
prompt_pk = lambda world: {"pk": world.prompt.pk}  # noqa: E731
moh_pk = lambda world: {"pk": world.moh.pk}  # noqa: E731
track_pk = lambda world: {"pk": world.track.pk}  # noqa: E731
webhook_pk = lambda world: {"pk": world.webhook.pk}  # noqa: E731
delivery_pk = lambda world: {"pk": world.delivery.pk}  # noqa: E731


def follow_me_data(world: World) -> dict[str, Any]:
    """Step 1 rings 1001 and an outside number for 25 s; the fallback is the box."""
    return {"enabled": "on", "fallback_kind": "voicemail", "fallback_object": f"voicemail:{world.box.pk}",
            "step_1_ring_seconds": "25", "step_1_confirm": "on",
            "step_1_target_1_kind": "extension", "step_1_target_1_object": f"extension:{world.extension.pk}",
            "step_1_target_2_kind": "external", "step_1_target_2_number": "+12125550100"}


def schedule_data(name: str) -> dict[str, Any]:
    return {"name": name, "timezone": "", "default_action": "closed",
            **_no_destination("open_destination", "closed_destination", "default_destination")}


def event_data(name: str) -> dict[str, Any]:
    return {"name": name, "repeat": "weekly", "weekdays": ["6"], "start_time": "10:00",
            "end_time": "12:00", "action": "open", **_no_destination("destination")}


def queue_data(number: str, name: str) -> dict[str, Any]:
    return {"number": number, "name": name, "strategy": "longest-idle-agent", "announcement_seconds": "60",
            "max_wait_seconds": "0", "max_wait_no_agent_seconds": "0", "tier_rule_wait_seconds": "0",
            "tier_rule_no_agent_no_wait": "on", "discard_abandoned_after": "60", "time_base_score": "queue",
            "agent_ring_seconds": "20", "agent_no_answer_delay": "30", "agent_busy_delay": "60",
            "agent_reject_delay": "10", "agent_wrap_up_seconds": "10", "agent_max_no_answer": "3",
            **_no_destination("fallback")}


PAGES = {page.name: page for page in (
    Page("dashboard"),
    Page("extension-list", write_markers=("Add extension",)),
    Page("extension-create", readable=False, post=lambda w: extension_data("1010", "Carol Cole")),
    Page("extension-edit", kwargs=extension_pk, post=lambda w: extension_data("1001", "Alice Renamed"),
         write_markers=(">Save<", "Add device", "New secret")),
    Page("extension-delete", kwargs=spare_pk, readable=False, post=lambda w: {}),
    Page("device-create", kwargs=extension_pk, readable=False, post=lambda w: {"label": "Softphone"},
         admin_post_status=303),  # to the page showing the secret once (switchboard.views.once)
    Page("device-edit", kwargs=device_pk, post=lambda w: {"label": "Desk phone 2", "enabled": "on"},
         write_markers=(">Save<", "New secret…")),
    Page("device-secret", kwargs=device_pk, readable=False, post=lambda w: {}, admin_post_status=303),
    Page("device-delete", kwargs=device_pk, readable=False, post=lambda w: {}),
    Page("ring-group-list", write_markers=("Add ring group",)),
    Page("ring-group-create", readable=False, post=lambda w: ring_group_data("2001", "Support")),
    Page("ring-group-edit", kwargs=group_pk, post=lambda w: ring_group_data("2000", "Sales and more"),
         write_markers=(">Save<", "Add member", "aria-label=\"Remove ")),
    Page("ring-group-delete", kwargs=group_pk, readable=False, post=lambda w: {}),
    # GET only redirects to the group's page; the POST is one change to the member list.
    Page("ring-group-members", kwargs=group_pk,
         post=lambda w: {"operation": "add", "destination_kind": "extension",
                         "destination_object": f"extension:{w.spare.pk}"}),
    Page("conference-room-list", write_markers=("Add conference room",)),
    Page("conference-room-create", readable=False,
         post=lambda w: {"number": "3001", "name": "Huddle", "max_members": "10"}),
    Page("conference-room-edit", kwargs=room_pk, write_markers=(">Save<",),
         post=lambda w: {"number": "3000", "name": "Board room 2", "max_members": "25"}),
    Page("conference-room-delete", kwargs=room_pk, readable=False, post=lambda w: {}),
    Page("call-block-list", write_markers=("Add call block",)),
    Page("call-block-create", readable=False,
         post=lambda w: {"pattern": "+14165550100", "direction": "both", "comment": "Pest"}),
    Page("call-block-edit", kwargs=block_pk, write_markers=(">Save<",),
         post=lambda w: {"pattern": "+1900*", "direction": "both", "comment": "Premium-rate, both ways"}),
    Page("call-block-delete", kwargs=block_pk, readable=False, post=lambda w: {}),
    Page("ivr-list", write_markers=("Add auto attendant",)),
    Page("ivr-create", readable=False, post=lambda w: ivr_data("Night menu", "")),
    Page("ivr-edit", kwargs=ivr_pk, post=lambda w: ivr_data("Main menu 2", "4000"),
         write_markers=(">Save<", "Save keys")),
    Page("ivr-delete", kwargs=ivr_pk, readable=False, post=lambda w: {}),
    # GET only redirects to the menu's page; the POST writes the whole key map.
    Page("ivr-keys", kwargs=ivr_pk,
         post=lambda w: {"key_1_kind": "ring_group", "key_1_object": f"ring_group:{w.group.pk}"}),
    Page("voicemail-list", write_markers=("Add voicemail box",)),
    Page("voicemail-create", readable=False, post=lambda w: {"number": "5001", "name": "Sales box",
                                                              "enabled": "on", "keep_days": "30"},
         admin_post_status=303),
    Page("voicemail-edit", kwargs=box_pk, write_markers=(">Save<", "Reset it"),
         post=lambda w: {"number": "5000", "name": "Front desk", "enabled": "on", "keep_days": "30"}),
    Page("voicemail-delete", kwargs=box_pk, readable=False, post=lambda w: {}),
    Page("voicemail-pin", kwargs=box_pk, readable=False, post=lambda w: {}, admin_post_status=303),
    Page("voicemail-messages", kwargs=box_pk, write_markers=("Mark read", ">Delete<")),
    Page("voicemail-message-audio", kwargs=message_kwargs),
    # GET only redirects to the box's messages; the POST changes one message.
    Page("voicemail-message-read", kwargs=message_kwargs, post_only=True, post=lambda w: {"read": "1"}),
    Page("voicemail-message-delete", kwargs=message_kwargs, post_only=True, post=lambda w: {}),
    # Lists the box on the nodes (none in this world): tests/pbx/portal/test_voicemail_messages.py.
    Page("voicemail-message-sync", kwargs=box_pk, post_only=True),
    Page("schedule-list", write_markers=("Add schedule",)),
    Page("schedule-create", readable=False, post=lambda w: schedule_data("Support hours")),
    Page("schedule-edit", kwargs=schedule_pk, post=lambda w: schedule_data("Office hours 2"),
         write_markers=(">Save<", "Add event", "aria-label=\"Move New Year up")),
    Page("schedule-delete", kwargs=schedule_pk, readable=False, post=lambda w: {}),
    Page("schedule-week", kwargs=schedule_pk, query=lambda w: "week=2026-01-01"),
    Page("schedule-event-create", kwargs=schedule_pk, readable=False, post=lambda w: event_data("Saturday")),
    Page("schedule-event-edit", kwargs=event_pk, post=lambda w: event_data("Weekend"),
         write_markers=(">Save<", "Delete…")),
    Page("schedule-event-delete", kwargs=event_pk, readable=False, post=lambda w: {}),
    # GET only redirects to the schedule's page; the POST moves one event.
    Page("schedule-event-order", kwargs=schedule_pk, post=lambda w: {"operation": "up", "position": "1"}),
    Page("queue-list", write_markers=("Add call queue",), writers=QUEUE_WRITERS),
    Page("queue-create", readable=False, post=lambda w: queue_data("6001", "Billing"), writers=QUEUE_WRITERS),
    Page("queue-edit", kwargs=queue_pk, post=lambda w: queue_data("6000", "Help desk 2"),
         write_markers=(">Save<", "Save agents", "Remove 1001", "Delete…"), writers=QUEUE_WRITERS),
    Page("queue-delete", kwargs=queue_pk, readable=False, post=lambda w: {}, writers=QUEUE_WRITERS),
    # GET only redirects to the queue's page; the POST writes the whole agent list.
    Page("queue-agents", kwargs=queue_pk, post_only=True, writers=QUEUE_WRITERS,
         post=lambda w: {f"agent_{w.extension.pk}_level": "2", f"agent_{w.extension.pk}_position": "1",
                         "new_extension": str(w.spare.pk), "new_level": "1"}),
    Page("prompt-list", write_markers=("Add prompt",)),
    Page("prompt-create", readable=False, post=lambda w: {"name": "Closed", "upload": wav("closed.wav")}),
    Page("prompt-edit", kwargs=prompt_pk, post=lambda w: {"name": "Welcome 2"},
         write_markers=(">Save<", "Delete…")),
    Page("prompt-delete", kwargs=prompt_pk, readable=False, post=lambda w: {}),
    Page("prompt-status", kwargs=prompt_pk),
    Page("prompt-audio", kwargs=prompt_pk),
    Page("moh-list", write_markers=("Add hold music group",)),
    Page("moh-create", readable=False, post=lambda w: {"name": "Classical", "shuffle": "on"}),
    Page("moh-edit", kwargs=moh_pk, post=lambda w: {"name": "Jazz 2"},
         write_markers=(">Save<", "Upload track", "Remove track")),
    Page("moh-delete", kwargs=moh_pk, readable=False, post=lambda w: {}),
    Page("moh-track-create", kwargs=moh_pk, post_only=True, post=lambda w: {"upload": wav("blue.wav")}),
    Page("moh-track-delete", kwargs=track_pk, post_only=True, post=lambda w: {}),
    # GET only redirects to the group's page; the POST moves tracks (the reorder action).
    Page("moh-tracks", kwargs=moh_pk, post=lambda w: {"operation": "order", "order": "1,0"},
         prepare=lambda w: do_add_moh_track(w.account, w.moh, upload=wav("so what.wav"))),
    Page("moh-track-status", kwargs=track_pk),
    Page("moh-track-audio", kwargs=track_pk),
    Page("follow-me", kwargs=spare_pk, post=follow_me_data, write_markers=("Save follow-me",)),
    Page("follow-me-delete", kwargs=spare_pk, post_only=True, post=lambda w: {}),
    Page("feature-codes"),
    Page("number-list"),
    Page("number-edit", kwargs=number_pk, write_markers=(">Save<",),
         post=lambda w: {"route_kind": "ring_group", "route_object": f"ring_group:{w.group.pk}",
                         "caller_id_name": "Sales line"}),
    Page("explain", query=lambda w: "caller=1001&dialed=2000"),
    # Call history, reports, usage (cdr.portal): read-only pages for every staff role; the
    # records and which account's they are: tests/cdr/test_portal.py.
    Page("call-list", query=lambda w: "result=answered"),
    Page("call-report"),
    Page("call-usage"),
    # Live: the conference center (a running room's buttons: tests/pbx/portal/test_live.py, with
    # a node), its operations (POST only), the dashboard's live tiles (no node here).
    Page("live-conferences"),
    Page("live-conference-room", kwargs=lambda w: {"room": "3000", "operation": "lock"}, post_only=True),
    Page("live-conference-member", kwargs=lambda w: {"room": "3000", "member_id": 1, "operation": "mute"},
         post_only=True),
    Page("dashboard-live"),
    # Webhooks (webhooks.portal): a new one and a new secret answer with the secret, shown once.
    Page("webhook-list", write_markers=("Add webhook",)),
    Page("webhook-create", readable=False, admin_post_status=303,
         post=lambda w: {"url": "https://crm.example.com/other", "events": ["call.ended"], "enabled": "on"}),
    Page("webhook-edit", kwargs=webhook_pk, write_markers=(">Save<", "New secret", "Send again"),
         post=lambda w: {"url": "https://crm.example.com/hooks", "events": ["call.started", "call.ended"],
                         "description": "CRM", "enabled": "on"}),
    Page("webhook-delete", kwargs=webhook_pk, readable=False, post=lambda w: {}),
    Page("webhook-secret", kwargs=webhook_pk, readable=False, post=lambda w: {}, admin_post_status=303),
    Page("webhook-deliveries", kwargs=webhook_pk, query=lambda w: "status=failed",
         write_markers=("Send again",)),
    # GET only goes back to the log; the POST sends the event again (a new delivery row).
    Page("webhook-redeliver", kwargs=delivery_pk, post=lambda w: {}),
    Page("destination-options", query=lambda w: "name=fallback&id=id_fallback&fallback_kind=extension"),
    # GET only redirects to the extension's page; the POST invites its employee (My phone).
    Page("extension-login", kwargs=spare_pk,
         post=lambda w: {"operation": "invite", "email": "bob@example.com"}),
)}

# Pages that only take a POST: a GET goes back to the object's page.
REDIRECTING_GETS = {"extension-login", "ring-group-members", "ivr-keys", "schedule-event-order",
                    "webhook-redeliver", "moh-tracks"}

# Portal URLs whose tests live with the sign-in and masquerade they belong to.
COVERED_ELSEWHERE = {
    "login": "tests/tenants/test_portal.py",
    "logout": "tests/pbx/portal/test_account.py",
    "masquerade-start": "tests/tenants/test_masquerade.py",
    "masquerade-end": "tests/tenants/test_masquerade.py",
    # A streamed CSV download (no page body to read here).
    "call-export": "tests/cdr/test_portal.py",
    "password-reset": "tests/pbx/portal/test_password_reset.py",
    "password-reset-done": "tests/pbx/portal/test_password_reset.py",
    "password-reset-confirm": "tests/pbx/portal/test_password_reset.py",
    "password-reset-complete": "tests/pbx/portal/test_password_reset.py",
}
# The URL a page with arguments is checked by (its test visits this one).
COVERED_KWARGS = {"password-reset-confirm": {"uidb64": "MQ", "token": "a-forged-token"}}


def _names(patterns: list, prefix: str = "") -> list[str]:
    names: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names += _names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(pattern.name)
        elif isinstance(pattern, URLPattern):
            names.append(f"<unnamed {pattern.pattern}>")
    return names


def test_every_portal_url_is_declared():
    names = _names(portal_urls.urlpatterns)
    my_phone = set(MY_PHONE_PAGES) | MY_PHONE_COVERED_HERE  # the employee's own matrix
    missing = [name for name in names
               if name not in PAGES and name not in COVERED_ELSEWHERE and name not in my_phone]
    assert not missing, f"portal URLs without a declared test in {__name__}.PAGES: {missing}"
    stale = sorted((set(PAGES) | my_phone) - set(names))
    assert not stale, f"declared pages that are not in the portal's URLconf: {stale}"
    root = Path(__file__).resolve().parents[3]
    for name, test_file in COVERED_ELSEWHERE.items():
        path = reverse(f"portal:{name}", kwargs=COVERED_KWARGS.get(name))
        assert path in (root / test_file).read_text(), f"{test_file} does not visit {path} ({name})"


class _Ids:
    """Stands in for a World when only the shape of a page's URL is wanted."""

    class _Row:
        pk = 1
        uuid = "5e0d6a44-1c1f-4f6e-9a57-8d2d3f1b7c01"

    extension = spare = device = group = room = block = number = ivr = box = message = _Row()
    schedule = event = queue = prompt = moh = track = _Row()
    webhook = delivery = _Row()


def text(response: Any) -> str:
    """A page's text; a streamed answer (a recording) is read whole, as bytes it is not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("latin-1")
    return response.content.decode()


def _pages(predicate: Callable[[Page], bool] = lambda page: True) -> list[Any]:
    return [pytest.param(page, id=page.name) for page in PAGES.values() if predicate(page)]


def _writers(predicate: Callable[[Page], bool] = lambda page: True) -> list[Any]:
    """(page, role) for each role that writes through the page."""
    return [pytest.param(page, role, id=f"{page.name}-{role}")
            for page in PAGES.values() if predicate(page) for role in page.writers]


def _read_only(predicate: Callable[[Page], bool] = lambda page: True) -> list[Any]:
    """(page, role) for each staff role that is read-only on the page."""
    return [pytest.param(page, role, id=f"{page.name}-{role}")
            for page in PAGES.values() if predicate(page) for role in READ_ONLY_ROLES
            if role not in page.writers]


# --- the admin, and the supervisor on the queue pages ----------------------------------


@pytest.mark.parametrize(("page", "role"), _writers())
def test_admin_reads(world: World, page: Page, role: str):
    response = world.browser(role).get(page.url(world))
    expected = 302 if page.post_only or page.name in REDIRECTING_GETS else 200
    body = text(response)
    assert response.status_code == expected, body[:500]
    for marker in page.write_markers:
        assert marker in body, f"{page.name}: the {role}'s page lacks {marker!r}"


@pytest.mark.parametrize(("page", "role"), _writers(lambda page: page.post is not None))
def test_admin_writes(world: World, page: Page, role: str):
    if page.prepare is not None:
        page.prepare(world)
    before = state(world.account)
    latest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = world.browser(role).post(page.url(world), page.post(world), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == page.admin_post_status, response.content.decode()[:3000]
    assert state(world.account) != before, f"{page.name}: the {role}'s POST changed nothing"
    # The write went through an action: audited with the person and their address.
    events = list(AuditEvent.objects.filter(pk__gt=latest))
    assert events and all(e.actor == world.people[role] and e.ip == "198.51.100.7" for e in events)


# --- read-only roles -----------------------------------------------------------------


@pytest.mark.parametrize(("page", "role"), _read_only())
def test_read_only_roles_read_without_write_buttons(world: World, page: Page, role: str):
    response = world.browser(role).get(page.url(world))
    if not page.readable:
        assert response.status_code == 403
        assert "read-only" in response.content.decode()
        return
    assert response.status_code == (302 if page.post_only or page.name in REDIRECTING_GETS else 200)
    body = text(response)
    for marker in page.write_markers:
        assert marker not in body, f"{page.name}: {role} sees {marker!r}"


@pytest.mark.parametrize(("page", "role"), _read_only(lambda page: page.post is not None))
def test_read_only_roles_cannot_write(world: World, page: Page, role: str):
    before = state(world.account)
    response = world.browser(role).post(page.url(world), page.post(world))
    assert response.status_code == 403
    assert "Your role is read-only." in response.content.decode()
    assert state(world.account) == before


# --- the employee's own login (My phone) -------------------------------------------


@pytest.mark.parametrize("page", _pages())
def test_the_end_user_is_refused_every_admin_page(world: World, page: Page):
    """An employee's login has no admin rights: reading refused too (the dashboard sends
    them to My phone), every write refused with nothing changed."""
    before = state(world.account)
    browser = world.browser("end_user")
    response = browser.get(page.url(world))
    if page.name == "dashboard":
        assert response.status_code == 302 and response["Location"] == "/my/"
    else:
        assert response.status_code == 403 and "your own phone" in response.content.decode()
    if page.post is not None:
        response = browser.post(page.url(world), page.post(world))
        assert response.status_code == 403
    assert state(world.account) == before


# --- strangers ---------------------------------------------------------------------


@pytest.mark.parametrize("page", _pages())
def test_anonymous_is_sent_to_sign_in(world: World, page: Page):
    before = state(world.account)
    browser = world.browser(None)
    response = browser.get(page.url(world))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    if page.post is not None:
        response = browser.post(page.url(world), page.post(world))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert state(world.account) == before


@pytest.mark.parametrize("page", _pages())
def test_other_tenants_admin_is_refused_on_this_host(world: World, page: Page):
    before = state(world.account)
    browser = world.browser("attacker")  # a session bound to this host, as if stolen
    response = browser.post(page.url(world), page.post(world)) if page.post else browser.get(page.url(world))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert state(world.account) == before


@pytest.mark.parametrize("page", _pages(lambda page: "pk" in page.kwargs(_Ids())))
def test_other_tenants_admin_gets_404_for_this_tenants_ids(world: World, page: Page):
    before = state(world.account)
    attacker = world.browser("attacker", host=OTHER_HOST)
    assert attacker.get(page.url(world)).status_code == 404
    if page.post is not None:
        assert attacker.post(page.url(world), page.post(world)).status_code == 404
    assert state(world.account) == before
