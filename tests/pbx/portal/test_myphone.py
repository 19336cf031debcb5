"""My phone, page by page and person by person: the employee (the conftest's
``end_user``, bound to 1001) reads and writes only their own extension; staff of every
role are refused (My phone is for a login bound to an extension); strangers are sent to
sign in; another extension's objects are never shown or changed, whatever is posted.
The admin's invitation on the extension's page and the employee's first sign-in through
its link are here too. ``MY_PHONE_PAGES`` is what test_pages' URLconf walk counts as
covered."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import schema_context

from cdr.models import CallRecord
from fsnodes import live
from pbx.actions import do_set_follow_me
from pbx.actions.endusers import do_invite_end_user, do_set_greeting
from pbx.actions.voicemail_messages import record_left_message
from pbx.models import Extension, FollowMe, Prompt, VoicemailBox, VoicemailMessage
from tenants.models import Account, AuditEvent, Role, User
from tests.conftest import PASSWORD, Browser
from tests.fakes.freeswitch_esl import FakeFreeswitch
from tests.fsnodes.conftest import create_node, start_manager  # noqa: F401 (a fixture)
from tests.fsnodes.manager_helpers import wait_for
from tests.pbx.portal.conftest import HOST, OTHER_HOST, World, converted, state, wav
from tests.pbx.portal.test_live import registrations

# Name → what an end user posts there (None: the page only reads).
MY_PHONE_PAGES = {
    "myphone": None,
    "myphone-phones": None,  # the overview's fragment (htmx)
    "myphone-forwarding": {"forward_no_answer": "on", "forward_no_answer_to": "1002"},
    "myphone-follow-me": {"enabled": "on", "step_1_targets": "1001", "step_1_seconds": "20",
                          "step_2_targets": "1002", "step_2_seconds": "25"},
    "myphone-voicemail": {"pin": "580214"},
    # A fresh file each time (an upload is read once).
    "myphone-greeting": lambda: {"which": "greeting_unavailable", "operation": "upload", "upload": wav()},
    "myphone-calls": None,
    "myphone-blocking": {"pattern": "+1 212 555 1234", "direction": "incoming", "comment": "Ex"},
}
# The invitation link (a token in the URL): test_the_invitation_link_sets_a_password_once;
# a message (its uuid in the URL): the voicemail tests at the end.
MY_PHONE_COVERED_HERE = {"myphone-welcome", "myphone-message", "myphone-blocking-delete"}
STAFF = ("admin", "read_only", "user_activation", "supervisor")
# Pages whose GET goes back to another page (they take a POST).
REDIRECTING = {"myphone-greeting"}


def url(name: str) -> str:
    return reverse(f"portal:{name}")


def posted(name: str) -> dict | None:
    data = MY_PHONE_PAGES[name]
    return data() if callable(data) else data


def _pages(writing: bool = False) -> list:
    return [pytest.param(name, id=name) for name, post in MY_PHONE_PAGES.items() if post or not writing]


def extension(world: World, number: str) -> Extension:
    with schema_context(world.account.schema_name):
        return Extension.objects.get(number=number)


# --- the employee ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [p for p in _pages() if p.values[0] not in REDIRECTING])
def test_the_end_user_reads_every_page_of_their_own(world: World, name: str):
    response = world.browser("end_user").get(url(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1001" in body and ('aria-label="My phone"' in body or name == "myphone-phones")
    # One nav for employees: none of the admin's pages is offered.
    assert "/extensions/" not in body and "/ring-groups/" not in body


@pytest.mark.parametrize("name", _pages(writing=True))
def test_the_end_user_writes_their_own_extension_audited_with_their_address(world: World, name: str):
    before = state(world.account)
    latest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = world.browser("end_user").post(url(name), posted(name), REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302, response.content.decode()[:2000]
    after = state(world.account)
    assert after != before
    events = list(AuditEvent.objects.filter(pk__gt=latest))
    assert events and all(e.actor == world.people["end_user"] and e.ip == "198.51.100.9" for e in events)
    # Nothing of 1002's changed.
    spare = lambda s: [row for row in s["extensions"] if row["number"] == "1002"]  # noqa: E731
    assert spare(after) == spare(before)


def test_forwarding_reads_numbers_like_the_feature_codes(world: World):
    browser = world.browser("end_user")
    browser.post(url("myphone-forwarding"), {"forward_no_answer": "on", "forward_no_answer_to": "1002",
                                             "forward_busy": "on", "forward_busy_to": "+1 212 555 0100",
                                             "do_not_disturb": "on"})
    alice = extension(world, "1001")
    assert alice.forward_no_answer and alice.forward_no_answer_to == f"extension:{world.spare.pk}"
    assert alice.forward_busy_to == "external:+12125550100" and alice.do_not_disturb
    page = browser.get(url("myphone-forwarding")).content.decode()
    assert 'value="1002"' in page and "Extension 1002 Bob Baker" in page


@pytest.mark.parametrize(("number", "error"), [
    ("19005550100", "may not call"),  # premium rate: the toll-fraud check of *72 and the admin
    ("1001", "An extension"),  # itself
    ("12", "neither a number of"),
    # Not digits: a form's message, not the feature code's "Dial … after the code".
    ("abc", "Type an extension number, or an outside number"),
])
def test_a_refused_forward_is_a_field_error_and_changes_nothing(world: World, number: str, error: str):
    before = state(world.account)
    response = world.browser("end_user").post(url("myphone-forwarding"), {
        "forward_all": "on", "forward_all_to": number})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert state(world.account) == before


def test_follow_me_keeps_what_the_admin_set_beyond_the_steps(world: World):
    do_set_follow_me(world.account, world.extension, record_name=True, fallback=f"extension:{world.spare.pk}",
                     steps=[{"targets": [f"extension:{world.extension.pk}"]}])
    world.browser("end_user").post(url("myphone-follow-me"), MY_PHONE_PAGES["myphone-follow-me"])
    with schema_context(world.account.schema_name):
        follow_me = FollowMe.objects.get(extension=world.extension)
        steps = [[t.destination for t in step.targets.all()] for step in follow_me.steps.order_by("position")]
    assert follow_me.record_name and follow_me.fallback == f"extension:{world.spare.pk}"
    assert steps == [[f"extension:{world.extension.pk}"], [f"extension:{world.spare.pk}"]]


def test_a_weak_pin_is_refused_in_the_actions_words(world: World):
    with schema_context(world.account.schema_name):
        old = VoicemailBox.objects.get(extension=world.extension).pin
    response = world.browser("end_user").post(url("myphone-voicemail"), {"pin": "1234"})
    assert response.status_code == 400 and "straight run" in response.content.decode()
    with schema_context(world.account.schema_name):
        assert VoicemailBox.objects.get(extension=world.extension).pin == old


def _leg(account: Account, extension: str, callee: str, when: datetime) -> None:
    leg = uuid.uuid4()
    CallRecord.objects.create(
        leg_uuid=leg, start_at=when, account=account, account_path=account.path, leg="a", call_uuid=leg,
        direction="internal", caller_number=extension, callee_number=callee, extension=extension,
        format="json", received_at=when, answer_at=when, billsec=42, hangup_cause="NORMAL_CLEARING")


def test_call_history_shows_only_the_legs_of_their_own_phones(world: World):
    now = datetime.now(UTC)
    _leg(world.account, "1001", "2223330001", now)  # their desk phone's SIP user is 1001
    _leg(world.account, world.device.username, "2223330002", now - timedelta(minutes=1))
    _leg(world.account, "1002", "2223330666", now)  # a colleague's
    _leg(world.tree.c2, "1001", "2223330777", now)  # another tenant's 1001
    body = world.browser("end_user").get(url("myphone-calls")).content.decode()
    assert "2223330001" in body and "2223330002" in body
    assert "2223330666" not in body and "2223330777" not in body


# --- everybody else --------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("name", _pages())
def test_staff_are_refused_my_phone(world: World, name: str, role: str):
    """My phone is a login bound to an extension: an admin manages extensions on the
    admin's pages (and may not act as an employee), the other roles do not write."""
    before = state(world.account)
    browser = world.browser(role)
    assert browser.get(url(name)).status_code == 403
    if MY_PHONE_PAGES[name]:
        response = browser.post(url(name), posted(name))
        assert response.status_code == 403 and "bound to their extension" in response.content.decode()
    assert state(world.account) == before


@pytest.mark.parametrize("name", _pages())
def test_strangers_are_sent_to_sign_in(world: World, name: str):
    before = state(world.account)
    other_end_user = _end_user_of(world.tree.c2, world)
    for browser in (world.browser(None), world.browser("attacker"),
                    Browser(HOST).login_as(other_end_user)):  # a stolen session of another host
        replay = Browser(HOST)
        replay.cookies = browser.cookies
        for response in (replay.get(url(name)), *([replay.post(url(name), posted(name))]
                                                 if MY_PHONE_PAGES[name] else [])):
            assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert state(world.account) == before


def _end_user_of(account: Account, world: World) -> User:
    """An employee of ``account`` bound to an extension there with the same primary key
    as the victim's 1001, where there is one."""
    from pbx.actions import do_create_extension

    theirs = do_create_extension(account, number="1001", name="Mallory")
    user = do_invite_end_user(account, theirs, email=f"mallory@{account.pk}.example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_another_tenants_end_user_on_their_own_host_sees_only_their_own(world: World):
    mallory = _end_user_of(world.tree.c2, world)
    browser = Browser(OTHER_HOST).login_as(mallory)
    body = browser.get(url("myphone")).content.decode()
    assert "Mallory" in body and "Alice" not in body
    before = state(world.account)
    browser.post(url("myphone-forwarding"), {"forward_all": "on", "forward_all_to": "1002"})
    assert state(world.account) == before


def test_a_disabled_or_unbound_login_is_signed_out(world: World):
    browser = world.browser("end_user")
    assert browser.get(url("myphone")).status_code == 200
    end_user = world.people["end_user"]
    User.objects.filter(pk=end_user.pk).update(is_active=False)
    response = browser.get(url("myphone"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_dashboard_sends_the_employee_to_my_phone(world: World):
    response = world.browser("end_user").get("/")
    assert response.status_code == 302 and response["Location"] == url("myphone")


# --- the admin's invitation --------------------------------------------------------------


def test_the_invitation_link_sets_a_password_once(world: World, django_capture_on_commit_callbacks):
    admin = world.browser("admin")
    edit = reverse("portal:extension-edit", kwargs={"pk": world.spare.pk})
    assert "Invite to My phone" in admin.get(edit).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("portal:extension-login", kwargs={"pk": world.spare.pk}),
                              {"operation": "invite", "email": "bob@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    bob = User.objects.get(username="bob@example.com")
    assert (bob.role, bob.extension_pk, bob.has_usable_password()) == (Role.END_USER, world.spare.pk, False)
    [message] = mail.outbox
    path = re.search(r"http://[^/\s]+(/my/welcome/\S+/\S+/)", message.body).group(1)
    assert "Invited: no password chosen yet" in admin.get(edit).content.decode()

    # Another tenant's host does not know the login.
    assert "does not work any more" in Browser(OTHER_HOST).get(path, follow=True).content.decode()

    employee = Browser(HOST)
    form = employee.get(path, follow=True)
    assert form.status_code == 200 and "bob@example.com" in form.content.decode()
    new_password = "Bob-chooses-a-long-one-7"
    done = employee.post(form.request["PATH_INFO"],
                         {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302 and done["Location"] == url("myphone")
    page = employee.get(url("myphone")).content.decode()
    assert "1002 Bob Baker" in page
    # Used: the link is dead, and the password signs in.
    assert "does not work any more" in Browser(HOST).get(path, follow=True).content.decode()
    bob.refresh_from_db()
    assert bob.check_password(new_password)


def test_user_activation_staff_disable_and_enable_the_login_and_nothing_else(world: World):
    end_user = world.people["end_user"]
    login_url = reverse("portal:extension-login", kwargs={"pk": world.extension.pk})
    activation = world.browser("user_activation")
    edit = reverse("portal:extension-edit", kwargs={"pk": world.extension.pk})
    page = activation.get(edit).content.decode()
    assert "Disable login" in page and "Invite to My phone" not in page
    assert activation.post(login_url, {"operation": "disable"}).status_code == 302
    end_user.refresh_from_db()
    assert not end_user.is_active
    assert activation.post(login_url, {"operation": "enable"}).status_code == 302
    end_user.refresh_from_db()
    assert end_user.is_active
    before = User.objects.filter(role=Role.END_USER).count()
    refused = activation.post(reverse("portal:extension-login", kwargs={"pk": world.spare.pk}),
                              {"operation": "invite", "email": "x@example.com"})
    assert refused.status_code == 403
    assert User.objects.filter(role=Role.END_USER).count() == before
    for role in ("read_only", "supervisor"):
        assert world.browser(role).post(login_url, {"operation": "disable"}).status_code == 403
    end_user.refresh_from_db()
    assert end_user.is_active


def test_deleting_the_extension_ends_the_employees_session(world: World):
    bob = do_invite_end_user(world.account, world.spare, email="bob@example.com")
    bob.set_password(PASSWORD)
    bob.save()
    browser = Browser(HOST).login_as(bob)
    assert browser.get(url("myphone")).status_code == 200
    deleted = world.browser("admin").post(reverse("portal:extension-delete", kwargs={"pk": world.spare.pk}))
    assert deleted.status_code == 302
    response = browser.get(url("myphone"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    bob.refresh_from_db()
    assert (bob.is_active, bob.extension_pk) == (False, None)


# --- voicemail messages -------------------------------------------------------------------


@pytest.fixture
def voicemail(world: World, tmp_path, settings):
    """A message in 1001's box (Alice's) and one in 1002's (Bob's), their recordings on
    the storage this server shares with the nodes."""
    settings.VOICEMAIL_STORAGE_DIR = "/var/lib/fs/vm"
    settings.VOICEMAIL_LOCAL_STORAGE_DIR = str(tmp_path)
    left = {}
    for number, uuid_, caller in (("1001", "aaaa-1111", "Carol"), ("1002", "bbbb-2222", "Dave")):
        path = f"/var/lib/fs/vm/c1.example.net/{number}/msg_{uuid_}.wav"
        recording = tmp_path / "c1.example.net" / number / f"msg_{uuid_}.wav"
        recording.parent.mkdir(parents=True)
        recording.write_bytes(b"RIFF" + b"\0" * 60)
        left[number] = record_left_message(world.account, number, uuid=uuid_, node="fs-a", file_path=path,
                                           created_at=datetime.now(UTC), duration=7,
                                           caller_id_name=caller, caller_id_number="5551234")
    return left


def _message(world: World, uuid_: str) -> VoicemailMessage | None:
    with schema_context(world.account.schema_name):
        return VoicemailMessage.objects.filter(uuid=uuid_).first()


def test_the_employee_plays_downloads_marks_and_deletes_their_own_messages(world: World, voicemail):
    browser = world.browser("end_user")
    page = browser.get(url("myphone-voicemail")).content.decode()
    assert "Carol" in page and "Dave" not in page and "<audio" in page
    own = reverse("portal:myphone-message", kwargs={"uuid": "aaaa-1111"})
    played = browser.get(own)
    assert played.status_code == 200 and played["Content-Type"] == "audio/wav"
    assert b"".join(played.streaming_content).startswith(b"RIFF")
    assert "attachment" in browser.get(own + "?download=1")["Content-Disposition"]
    assert browser.get(own, HTTP_RANGE="bytes=0-3").status_code == 206
    browser.post(own, {"operation": "read"}, REMOTE_ADDR="198.51.100.9")
    assert _message(world, "aaaa-1111").read_at is not None
    event = AuditEvent.objects.get(action="voicemail.message.read")
    assert (event.actor, event.ip) == (world.people["end_user"], "198.51.100.9")
    browser.post(own, {"operation": "delete"})
    assert _message(world, "aaaa-1111") is None


def test_another_boxes_message_is_404_with_nothing_changed(world: World, voicemail):
    browser = world.browser("end_user")
    theirs = reverse("portal:myphone-message", kwargs={"uuid": "bbbb-2222"})
    assert browser.get(theirs).status_code == 404
    for operation in ("read", "delete"):
        assert browser.post(theirs, {"operation": operation}).status_code == 404
    message = _message(world, "bbbb-2222")
    assert message is not None and message.read_at is None
    # Nor through the admin's pages for that box.
    admin_url = reverse("portal:voicemail-message-audio", kwargs={"pk": message.box_id, "uuid": "bbbb-2222"})
    assert browser.get(admin_url).status_code == 403


@pytest.mark.parametrize("role", STAFF)
def test_staff_do_not_use_the_employees_message_urls(world: World, voicemail, role: str):
    own = reverse("portal:myphone-message", kwargs={"uuid": "aaaa-1111"})
    browser = world.browser(role)
    assert browser.get(own).status_code == 403
    assert browser.post(own, {"operation": "delete"}).status_code == 403
    assert _message(world, "aaaa-1111") is not None


# --- the phones' live state ------------------------------------------------------------------


@pytest.fixture
def node(world: World, start_manager):  # noqa: F811 (the fixture imported above)
    live.clear_cache()
    with FakeFreeswitch() as fake:
        create_node(fake, name="fs-a")
        manager = start_manager()
        wait_for(lambda: manager.connection("fs-a").connected and fake.subscribed)
        yield fake
    live.clear_cache()


def test_the_phones_fragment_shows_the_nodes_registrations_of_their_own_phones_only(world: World, node):
    registrations(
        node, (world.device.username, "c1.example.net", "192.0.2.10"),  # their desk phone
        ("1002", "c1.example.net", "192.0.2.11"),  # a colleague's
        (world.device.username, "c2.example.net", "192.0.2.99"))  # another tenant's 1001
    overview = world.browser("end_user").get(url("myphone")).content.decode()
    assert f'hx-get="{url("myphone-phones")}"' in overview
    phones = world.browser("end_user").get(url("myphone-phones")).content.decode()
    assert "Connected</span> from 192.0.2.10:5060 (Yealink T54W)" in phones
    assert "192.0.2.11" not in phones and "192.0.2.99" not in phones
    registrations(node, ("1002", "c1.example.net", "192.0.2.11"))
    live.clear_cache()
    assert "Not connected" in world.browser("end_user").get(url("myphone-phones")).content.decode()


def test_without_a_node_the_state_is_said_to_be_unknown(world: World):
    live.clear_cache()
    phones = world.browser("end_user").get(url("myphone-phones")).content.decode()
    assert "Unknown" in phones and "No FreeSWITCH node is set up" in phones


# --- greetings ----------------------------------------------------------------------------


def _box(world: World, extension: Extension) -> VoicemailBox:
    with schema_context(world.account.schema_name):
        return VoicemailBox.objects.select_related("greeting_unavailable", "greeting_busy").get(
            extension=extension)


def test_an_uploaded_greeting_is_converted_and_chosen_and_a_new_one_replaces_it(world: World):
    browser = world.browser("end_user")
    response = browser.post(url("myphone-greeting"), {"which": "greeting_busy", "operation": "upload",
                                                      "upload": wav("busy.wav")}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302
    first = _box(world, world.extension).greeting_busy
    assert first.original_name == "busy.wav" and first.status == "pending"
    assert converted(world.account, first).status == "ready"
    event = AuditEvent.objects.get(action="voicemail.greeting")
    assert (event.actor, event.ip, event.details["greeting"]) == (
        world.people["end_user"], "198.51.100.9", "busy")
    assert "busy.wav" in browser.get(url("myphone-voicemail")).content.decode()
    browser.post(url("myphone-greeting"), {"which": "greeting_busy", "operation": "upload",
                                           "upload": wav("busy-2.wav")})
    second = _box(world, world.extension).greeting_busy
    with schema_context(world.account.schema_name):
        assert not Prompt.objects.filter(pk=first.pk).exists()  # the upload it replaced is gone
    assert second.original_name == "busy-2.wav"
    browser.post(url("myphone-greeting"), {"which": "greeting_busy", "operation": "clear"})
    assert _box(world, world.extension).greeting_busy is None


def test_a_file_that_is_not_audio_is_a_field_error_and_changes_nothing(world: World):
    before = state(world.account)
    response = world.browser("end_user").post(url("myphone-greeting"), {
        "which": "greeting_unavailable", "operation": "upload",
        "upload": SimpleUploadedFile("notes.wav", b"not a recording at all", content_type="audio/wav")})
    assert response.status_code == 400 and 'id="id_upload_error"' in response.content.decode()
    assert state(world.account) == before


def test_the_end_user_cannot_set_another_boxes_greeting(world: World):
    spare_box = _box(world, world.spare)
    before = state(world.account)
    with pytest.raises(PermissionDenied):
        do_set_greeting(world.account, spare_box, which="greeting_busy", upload=wav(),
                        actor=world.people["end_user"])
    with pytest.raises(PermissionDenied):  # a forged owner: the stored row decides
        do_set_greeting(world.account, VoicemailBox(pk=spare_box.pk, extension_id=world.extension.pk),
                        which="greeting_busy", upload=wav(), actor=world.people["end_user"])
    assert state(world.account) == before


def test_an_admin_page_refuses_the_employee_on_my_phones_layout(world: World):
    response = world.browser("end_user").get(reverse("portal:extension-list"))
    body = response.content.decode()
    assert response.status_code == 403 and "your own phone" in body
    assert 'aria-label="Portal"' not in body and "/ring-groups/" not in body  # no admin navigation
    assert "To My phone" in body


# --- call blocking of their own line ----------------------------------------------------


def _blocks(world: World) -> list[tuple]:
    from pbx.models import CallBlock

    with schema_context(world.account.schema_name):
        return list(CallBlock.objects.order_by("pk").values_list("pattern", "anonymous", "extension_id"))


def test_the_end_user_blocks_and_unblocks_numbers_of_their_own_line(world: World):
    from pbx.models import CallBlock

    browser = world.browser("end_user")
    page = browser.get(url("myphone-blocking")).content.decode()
    assert "You block nobody" in page and "1 number for the whole company" in page
    assert "Premium-rate callers" not in page  # the account's block is the admin's
    for data in ({"pattern": "212 555 1234", "direction": "both"}, {"pattern": "+1900555*"},
                 {"anonymous": "on", "direction": "incoming"}):
        response = browser.post(url("myphone-blocking"), {"direction": "incoming", **data})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert _blocks(world)[1:] == [("+12125551234", False, world.extension.pk),
                                  ("+1900555*", False, world.extension.pk), ("", True, world.extension.pk)]
    page = browser.get(url("myphone-blocking")).content.decode()
    assert "+12125551234" in page and "Anonymous callers" in page
    with schema_context(world.account.schema_name):
        mine = CallBlock.objects.get(pattern="+1900555*")
    delete = reverse("portal:myphone-blocking-delete", kwargs={"pk": mine.pk})
    assert browser.get(delete).status_code == 302  # a GET changes nothing
    response = browser.post(delete, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302 and response["Location"] == url("myphone-blocking")
    assert ("+1900555*", False, world.extension.pk) not in _blocks(world)
    event = AuditEvent.objects.filter(action="call_block.delete").latest("pk")
    assert (event.actor, event.ip, event.details["extension"]) == (world.people["end_user"], "198.51.100.9",
                                                                   "1001")


@pytest.mark.parametrize(("data", "field", "error"), [
    ({"pattern": "not a number"}, "pattern", "is not a phone number"),
    ({"pattern": ""}, "pattern", "Enter a number"),
    ({"pattern": "+1212555*0"}, "pattern", "not a valid phone number"),
    ({"pattern": "+0*"}, "pattern", "Start the prefix with a country code"),
    ({"pattern": "+12125551234", "anonymous": "on"}, "pattern", "Leave the number empty"),
])
def test_a_refused_block_is_a_field_error_and_changes_nothing(world: World, data, field, error):
    before = state(world.account)
    response = world.browser("end_user").post(url("myphone-blocking"), {"direction": "incoming", **data})
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors[field])
    assert state(world.account) == before


def test_a_number_blocked_twice_is_refused_on_the_field(world: World):
    browser = world.browser("end_user")
    browser.post(url("myphone-blocking"), {"pattern": "+12125551234", "direction": "incoming"})
    response = browser.post(url("myphone-blocking"), {"pattern": "(212) 555-1234", "direction": "outgoing"})
    assert response.status_code == 400
    assert "already blocked" in " ".join(response.context["form"].errors["pattern"])
    # The account blocks +1900* too: the employee may still block it for their own line.
    response = browser.post(url("myphone-blocking"), {"pattern": "+1900*", "direction": "both"})
    assert response.status_code == 302


def test_another_extensions_block_and_the_accounts_are_not_found(world: World):
    """Whatever id is posted, only the employee's own blocks are found (404 like a
    missing one), and nothing changes."""
    from pbx.actions import do_add_call_block

    bobs = do_add_call_block(world.account, pattern="+12125559999", extension=world.spare)
    before = state(world.account)
    browser = world.browser("end_user")
    for pk in (bobs.pk, world.block.pk, 999999):
        response = browser.post(reverse("portal:myphone-blocking-delete", kwargs={"pk": pk}))
        assert response.status_code == 404
    # A forged extension field is not read: the block is their own extension's.
    browser.post(url("myphone-blocking"), {"pattern": "+12125550000", "direction": "incoming",
                                            "extension": str(world.spare.pk)})
    assert _blocks(world)[-1] == ("+12125550000", False, world.extension.pk)
    assert state(world.account)["blocks"][:-1] == before["blocks"]


@pytest.mark.parametrize("role", STAFF)
def test_staff_and_strangers_cannot_unblock_through_my_phone(world: World, role: str):
    from pbx.actions import do_add_call_block

    own = do_add_call_block(world.account, pattern="+12125551234", extension=world.extension)
    before = state(world.account)
    delete = reverse("portal:myphone-blocking-delete", kwargs={"pk": own.pk})
    assert world.browser(role).post(delete).status_code == 403
    for stranger in (world.browser(None), world.browser("attacker")):
        response = stranger.post(delete)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert state(world.account) == before
