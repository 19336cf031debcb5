"""An employee in a real Chromium: the admin's invitation link, their own password, My
phone, and the no-answer forward they turn on there, which the next xml_curl dialplan
answer for a call to their extension follows (posted to /freeswitch/ as FreeSWITCH does,
like tests/fsconf); a number blocked for their own line; a voicemail message played in
the page (the ``<audio>`` element loads the recording: its duration is the file's). The
pages are saved to docs/screenshots/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy
import pytest
import soundfile
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from pbx.actions import do_add_device, do_create_extension
from pbx.actions.endusers import do_invite_end_user
from pbx.actions.voicemail_messages import record_left_message
from pbx.models import Extension, VoicemailMessage
from tenants.actions import do_bootstrap_master, do_create_staff_user
from tenants.models import Role, User
from tests.conftest import PASSWORD, make_account, route_to
from tests.fsconf.replay import CAPTURE_CREDENTIALS
from tests.fsconf.test_routing import dial
from tests.pbx.portal.browser.test_admin_journey import shot

pytestmark = pytest.mark.browser

EMPLOYEE_PASSWORD = "Bobs-own-long-password-42"


def after_no_answer(dialed: str) -> list[tuple[str, str]]:
    """What the dialplan does once the ring of ``dialed`` (called by 1001) ends unanswered:
    the second lookup FreeSWITCH makes, for the ``~after:`` transfer of the first."""
    first = dial(dialed)
    application, data = first[-1]
    assert application == "transfer" and data.startswith("~after:"), first
    return dial(data.split(" ")[0].replace("${originate_disposition}", "NO_ANSWER"))


def test_an_employee_turns_on_a_forward_that_the_dialplan_follows_and_plays_voicemail(
        chromium, committed_site, live_server, settings, tmp_path):
    settings.FREESWITCH_GATEWAY_CREDENTIALS = CAPTURE_CREDENTIALS
    settings.VOICEMAIL_STORAGE_DIR = "/var/lib/fs/vm"
    settings.VOICEMAIL_LOCAL_STORAGE_DIR = str(tmp_path)
    master = do_bootstrap_master(name="Provider", domains=["localhost", "127.0.0.1"],
                                 admin_username="master_admin", admin_password=PASSWORD)
    master_admin = User.objects.get(username="master_admin")
    acme = make_account(master_admin, master, "Acme")  # acme.example.net, as the capture
    do_create_staff_user(master_admin, account=acme, username="acme_admin", password=PASSWORD,
                         role=Role.ADMIN)
    for number, name in (("1001", "Alice Archer"), ("1002", "Bob Baker"), ("1003", "Carol Cole")):
        extension = do_create_extension(acme, number=number, name=name)
        do_add_device(acme, extension, secret=f"acme-{number}-secret", label="Desk phone")
    with schema_context(acme.schema_name):
        bob = Extension.objects.get(number="1002")
    # The admin invites Bob (the extension page's button is tested in test_myphone).
    do_invite_end_user(acme, bob, email="bob@example.com")
    link = re.search(r"http://\S+/my/welcome/\S+/\S+/", mail.outbox[-1].body).group(0)
    base = f"http://acme.localhost:{urlsplit(live_server.url).port}"
    link = base + urlsplit(link).path

    forward_to_carol = ("transfer", f"~{route_to(acme, 'extension', '1003')} XML acme.example.net")
    assert forward_to_carol not in after_no_answer("1002")  # voicemail answers, as yet

    page = chromium.new_page(viewport={"width": 1024, "height": 800})
    page.goto(link)
    page.get_by_label("New password:", exact=True).fill(EMPLOYEE_PASSWORD)
    page.get_by_label("New password confirmation:").fill(EMPLOYEE_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(f"{base}/my/")
    assert page.locator("h1").inner_text() == "My phone: 1002 Bob Baker"
    shot(page, "myphone")

    page.get_by_role("navigation", name="My phone").get_by_role("link", name="Forwarding").click()
    page.get_by_role("group", name="Forward when I do not answer").get_by_label("On").check()
    page.get_by_role("group", name="Forward when I do not answer").get_by_label("To number").fill("1003")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Forwarding saved.")
    shot(page, "myphone-forwarding")

    assert after_no_answer("1002")[-1] == forward_to_carol

    # A forward the toll-fraud check refuses is said on its field, and nothing changes.
    page.get_by_role("group", name="Forward all calls").get_by_label("On").check()
    page.get_by_role("group", name="Forward all calls").get_by_label("To number").fill("19005550100")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("[role=alert] >> text=may not call")
    with schema_context(acme.schema_name):
        assert not Extension.objects.get(number="1002").forward_all

    page.get_by_role("navigation", name="My phone").get_by_role("link", name="Follow-me").click()
    shot(page, "myphone-follow-me")

    # Call blocking of Bob's own line: a number refused on its field, then blocked.
    page.get_by_role("navigation", name="My phone").get_by_role("link", name="Call blocking").click()
    page.get_by_label("Number or prefix").fill("not a number")
    page.get_by_role("button", name="Block").click()
    page.wait_for_selector("[role=alert] >> text=is not a phone number")
    page.get_by_label("Number or prefix").fill("+1 212 555 0123")
    page.get_by_label("Note (optional)").fill("Keeps calling")
    page.get_by_role("button", name="Block").click()
    page.wait_for_selector("text=+12125550123 is blocked.")
    with schema_context(acme.schema_name):
        assert Extension.objects.get(number="1002").call_blocks.get().pattern == "+12125550123"
    shot(page, "myphone-blocking")
    # A message left in Bob's box, as the node manager records it, its recording (one
    # second of a tone, 8 kHz WAV) on the storage this server shares with the nodes.
    recording = tmp_path / "acme.example.net" / "1002" / "msg_5e0d6a44.wav"
    recording.parent.mkdir(parents=True)
    samples = 0.3 * numpy.sin(2 * numpy.pi * 440 * numpy.arange(8000) / 8000)
    soundfile.write(recording, samples, 8000, subtype="PCM_16")
    record_left_message(acme, "1002", uuid="5e0d6a44", node="fs-a",
                        file_path="/var/lib/fs/vm/acme.example.net/1002/msg_5e0d6a44.wav",
                        created_at=timezone.now(), duration=1, caller_id_name="Alice Archer",
                        caller_id_number="1001")
    page.get_by_role("navigation", name="My phone").get_by_role("link", name="Voicemail").click()
    player = page.locator("audio")
    page.wait_for_function("document.querySelector('audio').readyState >= 1", timeout=10000)
    assert abs(player.evaluate("audio => audio.duration") - 1.0) < 0.05
    shot(page, "myphone-voicemail")
    page.get_by_role("button", name="Mark read").click()
    page.wait_for_selector("text=Message marked read.")
    with schema_context(acme.schema_name):
        assert VoicemailMessage.objects.get(uuid="5e0d6a44").read_at is not None

    # Phone width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/my/forwarding/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
