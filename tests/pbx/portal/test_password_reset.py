"""Password reset by e-mail: the link in the mail sets a new password on the user's own
host only; an e-mail of another tenant's user asked on this host sends nothing and the
page says the same; asking is throttled per address. (Mail: Django's locmem backend.)"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import PASSWORD
from tests.pbx.portal.conftest import HOST, OTHER_HOST, World

RESET = "/password-reset/"


@pytest.fixture
def people(world: World) -> World:
    for who, email in (("admin", "ann@c1.example.com"), ("attacker", "mallory@c2.example.com")):
        world.people[who].email = email
        world.people[who].save(update_fields=["email"])
    return world


def link_in(message: mail.EmailMessage) -> str:
    [url] = re.findall(r"https?://\S+", message.body)
    return url


def ask(world: World, email: str, host: str = HOST, ip: str = "203.0.113.10"):
    return world.browser(None, host=host).post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_the_link_in_the_mail_sets_the_password(people: World):
    page = people.browser(None).get("/login/").content.decode()
    assert f'href="{RESET}"' in page
    response = ask(people, "ANN@c1.example.com")
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    [message] = mail.outbox
    assert message.to == ["ann@c1.example.com"]
    url = link_in(message)
    assert url.startswith(f"http://{HOST}/password-reset/")
    browser = people.browser(None)
    form = browser.get(url.removeprefix(f"http://{HOST}"))
    assert form.status_code == 302 and form["Location"].endswith("/set-password/")
    page = browser.get(form["Location"])
    assert "Choose a new password" in page.content.decode()
    done = browser.post(form["Location"], {"new_password1": "Bright-Otter-42-Lamp",
                                           "new_password2": "Bright-Otter-42-Lamp"})
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete/"
    admin = people.people["admin"]
    admin.refresh_from_db()
    assert admin.check_password("Bright-Otter-42-Lamp") and not admin.check_password(PASSWORD)
    # Used once: the same link no longer works.
    again = people.browser(None).get(url.removeprefix(f"http://{HOST}"), follow=True)
    assert "This link does not work" in again.content.decode()


def test_another_tenants_user_gets_nothing_here_and_the_page_says_the_same(people: World):
    response = ask(people, "mallory@c2.example.com")
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []
    unknown = ask(people, "nobody@example.com")
    assert unknown["Location"] == response["Location"] and mail.outbox == []
    sent = people.browser(None).get("/password-reset/sent/").content.decode()
    assert "If that address belongs to a sign-in" in sent


def test_a_link_works_only_on_its_users_own_host(people: World):
    ask(people, "mallory@c2.example.com", host=OTHER_HOST)
    [message] = mail.outbox
    path = link_in(message).removeprefix(f"http://{OTHER_HOST}")
    # Mallory's link followed on C1's host: invalid, and her password is unchanged.
    browser = people.browser(None)
    page = browser.get(path, follow=True).content.decode()
    assert "This link does not work" in page
    new = {"new_password1": "Bright-Otter-42-Lamp", "new_password2": "Bright-Otter-42-Lamp"}
    response = browser.post(path.rsplit("/", 2)[0] + "/set-password/", new)
    assert "This link does not work" in response.content.decode()
    mallory = people.people["attacker"]
    mallory.refresh_from_db()
    assert mallory.check_password(PASSWORD)


def test_a_forged_link_does_not_work(people: World):
    page = people.browser(None).get("/password-reset/MQ/a-forged-token/").content.decode()
    assert "This link does not work" in page


def test_asking_is_throttled_per_address(people: World):
    for _ in range(5):
        assert ask(people, "ann@c1.example.com", ip="203.0.113.77").status_code == 302
    response = ask(people, "ann@c1.example.com", ip="203.0.113.77")
    assert response.status_code == 429 and "Too many requests" in response.content.decode()
    assert len(mail.outbox) == 5
    assert ask(people, "ann@c1.example.com", ip="203.0.113.78").status_code == 302
