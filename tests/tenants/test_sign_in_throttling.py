"""Sign-in throttling (tenants/throttling.py) on the admin and the portals, from the
attacker's side: failures count per username and per address, the right password is
refused once either is locked out, and the lockout is audited and can be cleared."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from tenants.actions import do_create_staff_user
from tenants.models import AuditEvent
from tests.conftest import PASSWORD, Browser

ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"
LIMIT = settings.AXES_FAILURE_LIMIT
LOCKED = "Too many failed sign-in attempts; try again in"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


def sign_in(host: str, username: str, password: str = PASSWORD, *, address: str = ATTACKER,
            **headers) -> tuple[Browser, object]:
    browser = Browser(host, REMOTE_ADDR=address, **headers)
    path = ADMIN_LOGIN if host == "localhost" else "/login/"
    return browser, browser.post(path, {"username": username, "password": password})


def fail(host: str, username: str, times: int, *, address: str = ATTACKER) -> None:
    """``times`` wrong passwords; the one that reaches the limit is already answered
    with the lockout."""
    for _ in range(times):
        _, response = sign_in(host, username, "wrong-password", address=address)
        assert response.status_code in (200, 429)


def signed_in(response) -> bool:
    return response.status_code == 302


def test_policy_is_per_username_and_per_address_separately():
    # A list of single parameters: either one locks; a combination ([["username",
    # "ip_address"]]) would let an attacker spray one password over every username.
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert 5 <= LIMIT <= 10
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


def test_twenty_wrong_passwords_then_the_right_one_is_refused(tree):
    """The issue's reproduction: before, the right password worked after 20 failures."""
    for _ in range(20):
        sign_in("localhost", "r1_admin", "wrong-password")
    browser, response = sign_in("localhost", "r1_admin")
    assert response.status_code == 429
    assert browser.get("/admin/tenants/account/").status_code == 302


@pytest.mark.parametrize(("host", "username"), [("localhost", "r1_admin"), ("c1.localhost", "c1_admin")])
def test_right_password_is_refused_after_the_limit_with_the_message(tree, host, username):
    fail(host, username, LIMIT)
    browser, response = sign_in(host, username)
    page = response.content.decode()
    assert response.status_code == 429 and not signed_in(response)
    assert "Too many failed sign-in attempts; try again in 15 minutes." in page
    assert "<form" in page  # the sign-in page itself, with the message in its form
    assert int(response["Retry-After"]) in range(14 * 60, 15 * 60 + 1)
    home = "/admin/tenants/account/" if host == "localhost" else "/"
    assert browser.get(home).status_code == 302


def test_one_failure_below_the_limit_still_signs_in(tree):
    fail("c1.localhost", "c1_admin", LIMIT - 1)
    _, response = sign_in("c1.localhost", "c1_admin")
    assert signed_in(response)


def test_address_limit_blocks_every_username_from_that_address(tree):
    """Password spraying: one failure each for many usernames from one address."""
    for n in range(LIMIT):
        fail("localhost", f"guess-{n}", 1)
    _, response = sign_in("localhost", "r1_admin")
    assert response.status_code == 429
    _, response = sign_in("c1.localhost", "c1_admin")  # the portals share the count
    assert response.status_code == 429
    _, response = sign_in("c1.localhost", "c1_admin", address=OFFICE)
    assert signed_in(response)


def test_username_limit_holds_against_failures_from_many_addresses(tree):
    """A distributed guess: each address stays under its limit, the username does not."""
    for n in range(LIMIT):
        fail("c1.localhost", "c1_admin", 1, address=f"192.0.2.{n + 1}")
    _, response = sign_in("c1.localhost", "c1_admin", address=OFFICE)
    assert response.status_code == 429
    event = AuditEvent.objects.get(action="login.locked_out")
    assert event.details["locked"] == ["username"]
    assert signed_in(sign_in("localhost", "r1_admin", address="192.0.2.1")[1])


def test_forwarded_for_header_does_not_escape_the_address_lock(tree):
    """The address is the one the audit log uses (REMOTE_ADDR, set by the proxy), not a
    header the client writes."""
    for n in range(LIMIT):
        _, response = sign_in("localhost", f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    _, response = sign_in("localhost", "r1_admin", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_lockout_is_audited_once_with_who_where_and_why(tree):
    fail("c1.localhost", "c1_admin", LIMIT)
    fail_again = [sign_in("c1.localhost", "c1_admin", "wrong")[1] for _ in range(3)]
    assert {r.status_code for r in fail_again} == {429}
    (event,) = AuditEvent.objects.filter(action="login.locked_out")
    assert event.account == tree.c1 and event.scope_path == tree.c1.path
    assert event.ip == ATTACKER and event.actor is None
    assert event.details["username"] == "c1_admin" and event.details["user_exists"] is True
    assert event.details["locked"] == ["ip_address", "username"] and event.details["minutes"] == 15
    assert event.details["host"] == "c1.localhost"


def test_lockout_of_an_unknown_username_is_audited_on_the_host_account(tree):
    fail("c1.localhost", "nobody-here", LIMIT)
    (event,) = AuditEvent.objects.filter(action="login.locked_out")
    assert event.account == tree.c1 and event.details["user_exists"] is False


def test_the_reseller_sees_its_customers_lockout_event_without_a_hidden_actor(tree):
    fail("c1.localhost", "c1_admin", LIMIT)
    event = AuditEvent.objects.get(action="login.locked_out")
    reseller = Browser("localhost").login_as(tree.user("r1_admin"))
    page = reseller.get(f"/admin/tenants/auditevent/{event.pk}/change/").content.decode()
    assert "login.locked_out" in page and ATTACKER in page and "provider staff" not in page
    outsider = Browser("localhost").login_as(tree.user("r2_admin"))
    assert outsider.get(f"/admin/tenants/auditevent/{event.pk}/change/").status_code == 404


def test_refused_attempts_during_a_lockout_do_not_extend_it(tree):
    fail("c1.localhost", "c1_admin", LIMIT)
    before = list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start"))
    for _ in range(3):
        sign_in("c1.localhost", "c1_admin", "wrong")
    assert list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start")) == before


def test_lockout_lifts_after_the_cool_off_and_the_message_counts_down(tree):
    fail("c1.localhost", "c1_admin", LIMIT)
    failed_at = AccessAttempt.objects.get().attempt_time
    AccessAttempt.objects.update(attempt_time=failed_at - timedelta(minutes=11))
    _, response = sign_in("c1.localhost", "c1_admin")
    assert "try again in 4 minutes." in response.content.decode()
    AccessAttempt.objects.update(attempt_time=failed_at - timedelta(minutes=16))
    _, response = sign_in("c1.localhost", "c1_admin")
    assert signed_in(response)


def test_success_clears_the_users_failures(tree):
    fail("c1.localhost", "c1_admin", LIMIT - 1)
    assert signed_in(sign_in("c1.localhost", "c1_admin")[1])
    fail("c1.localhost", "c1_admin", LIMIT - 1)
    assert signed_in(sign_in("c1.localhost", "c1_admin")[1])


def test_success_does_not_clear_the_addresss_failures_for_other_usernames(tree):
    """Else one valid account would buy an attacker unlimited guesses at the others."""
    for n in range(LIMIT - 1):
        fail("localhost", f"guess-{n}", 1)
    assert signed_in(sign_in("c1.localhost", "c1_admin")[1])
    fail("localhost", "guess-last", 1)
    assert sign_in("localhost", "r1_admin")[1].status_code == 429


def test_a_lockout_on_one_portal_holds_for_that_username_everywhere_but_not_for_others(tree):
    """Decision: usernames are platform-wide, so are their counts. Failures for c2's
    user on c1's portal lock that user on c2's portal and on the admin too (per-host
    counts would give an attacker the limit once per portal); c1's own users, from
    another address, are not affected."""
    do_create_staff_user(tree.user("r1_admin"), account=tree.c1, username="c1_clerk", password=PASSWORD)
    fail("c1.localhost", "c2_admin", LIMIT)
    assert sign_in("c2.localhost", "c2_admin", address=OFFICE)[1].status_code == 429
    assert signed_in(sign_in("c1.localhost", "c1_clerk", address=OFFICE)[1])
    assert signed_in(sign_in("c1.localhost", "c1_admin", address=OFFICE)[1])


def test_another_tenants_user_with_the_right_password_counts_as_a_failure(tree):
    """The portal shows it as a wrong password; the throttle must not tell them apart
    either (a lockout coming one attempt late would confirm a guessed password)."""
    fail("c1.localhost", "c2_admin", LIMIT - 1)
    _, response = sign_in("c1.localhost", "c2_admin")  # right password, wrong tenant
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_customer_user_on_the_admin_counts_as_a_failure(tree):
    fail("localhost", "c1_admin", LIMIT - 1)
    _, response = sign_in("localhost", "c1_admin")
    assert response.status_code == 429


class TestLockoutAdmin:
    URL = "/admin/axes/accessattempt/"

    def test_master_staff_see_current_lockouts_and_clear_one(self, tree):
        fail("c1.localhost", "c1_admin", LIMIT)
        fail("c1.localhost", "c1_typo", 1, address=OFFICE)
        master = Browser("localhost").login_as(tree.user("master_admin"))
        page = master.get(self.URL + "?locked=yes").content.decode()
        assert "c1_admin" in page and "c1_typo" not in page
        attempt = AccessAttempt.objects.get(username="c1_admin")
        response = master.post(self.URL, {"action": "clear_usernames", "_selected_action": [attempt.pk]})
        assert response.status_code == 302
        assert not AccessAttempt.objects.filter(username="c1_admin").exists()
        assert signed_in(sign_in("c1.localhost", "c1_admin")[1])
        event = AuditEvent.objects.get(action="login.lockout_cleared")
        assert event.actor == tree.user("master_admin") and event.details["usernames"] == ["c1_admin"]

    def test_master_clears_an_address(self, tree):
        for n in range(LIMIT):
            fail("localhost", f"guess-{n}", 1)
        master = Browser("localhost").login_as(tree.user("master_admin"))
        attempt = AccessAttempt.objects.filter(ip_address=ATTACKER).first()
        master.post(self.URL, {"action": "clear_addresses", "_selected_action": [attempt.pk]})
        assert not AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
        assert signed_in(sign_in("localhost", "r1_admin")[1])

    @pytest.mark.parametrize("username", ["r1_admin", "r1_readonly"])
    def test_resellers_do_not_see_it(self, tree, username):
        fail("c1.localhost", "c1_admin", 1)
        attempt = AccessAttempt.objects.get()
        reseller = Browser("localhost").login_as(tree.user(username))
        assert reseller.get(self.URL).status_code == 404
        assert reseller.get(f"{self.URL}{attempt.pk}/change/").status_code == 404
        assert "accessattempt" not in reseller.get("/admin/").content.decode()
        reseller.post(self.URL, {"action": "clear_usernames", "_selected_action": [attempt.pk]})
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()

    def test_master_read_only_staff_see_but_cannot_clear(self, tree):
        readonly = do_create_staff_user(tree.user("master_admin"), account=tree.master,
                                        username="master_ro", password=PASSWORD, role="read_only")
        fail("c1.localhost", "c1_admin", 1)
        attempt = AccessAttempt.objects.get()
        browser = Browser("localhost").login_as(readonly)
        assert browser.get(self.URL).status_code == 200
        browser.post(self.URL, {"action": "clear_usernames", "_selected_action": [attempt.pk]})
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
