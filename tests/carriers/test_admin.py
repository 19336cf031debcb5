"""The trunk admin from the attacker's side and the writer's: a reseller never sees or
reaches trunks outside its subtree, read-only staff never write, every write goes through
carriers.actions, and what an action refuses is a form error, with nothing saved."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from carriers import actions
from carriers.actions import do_create_trunk
from carriers.models import Gateway, Trunk
from common.secrets import decrypt_secret
from tenants.models import Account, AuditEvent
from tests.conftest import PASSWORD, Browser

TRUNKS = "/admin/carriers/trunk/"
TRUNK_URLS = ["{pk}/change/", "{pk}/delete/", "{pk}/history/"]
GATEWAY = {"server": "sip.carrier.example.com"}


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def shows(html: str, text: str) -> bool:
    """``text`` as the whole text of an element (a bare substring could match inside the
    random CSRF token)."""
    return re.search(rf">\s*{re.escape(text)}\s*<", html) is not None


def listed(response) -> set[str]:
    return set(re.findall(r'<a href="/admin/carriers/trunk/\d+/change/[^"]*">([^<]+)</a>',
                          response.content.decode()))


@pytest.fixture
def trunks(tree):
    """Platform (master), R1 carrier (on r1, by the master), C1 carrier (on c1, by r1) and
    R2 secret (on c2, by r2)."""
    m, r1, r2 = tree.user("master_admin"), tree.user("r1_admin"), tree.user("r2_admin")
    return {
        "platform": do_create_trunk(m, tree.master, name="Platform", gateways=[GATEWAY]),
        "r1": do_create_trunk(m, tree.r1, name="R1 carrier", gateways=[GATEWAY]),
        "c1": do_create_trunk(r1, tree.c1, name="C1 carrier", rules=[r"^\+(1\d{10})$"],
                              gateways=[GATEWAY, {"server": "backup.carrier.example.com"}]),
        "c2": do_create_trunk(r2, tree.c2, name="R2 secret", gateways=[
            {"server": "sip.r2-carrier.example.com", "username": "r2acct",
             "password": "r2-carrier-pw", "register": True}]),
    }


def trunk_form(account=None, *, gateways=(GATEWAY,), existing=(), **overrides) -> dict:
    """The add/change form as a browser posts it (gateways inline prefix ``gateways``)."""
    data = {
        "name": "New carrier", "enabled": "on", "weight_cost": "50", "rules": "",
        "caller_id_regex": "", "caller_id_prefix": "", "caller_id_value": "",
        "number_format": "e164_digits", "national_country": "", "ping_interval": "0", "ping_failures": "3",
    }
    if account is not None:
        data["account"] = account.pk
    rows = [*existing, *gateways]
    data.update({
        "gateways-TOTAL_FORMS": str(len(rows)), "gateways-INITIAL_FORMS": str(len(existing)),
        "gateways-MIN_NUM_FORMS": "1", "gateways-MAX_NUM_FORMS": "1000",
    })
    for i, row in enumerate(rows):
        fields = {"position": "0", "port": "5060", "transport": "udp", "progress_timeout": "20",
                  "enabled": "on", "realm": "", "username": "", "password": "", "codecs": "",
                  "prefix": "", **row}
        for name, value in fields.items():
            if value is not None:
                data[f"gateways-{i}-{name}"] = value
    return {**data, **overrides}


def existing_rows(trunk: Trunk) -> list[dict]:
    return [{"id": str(g.pk), "trunk": str(trunk.pk), "position": str(g.position), "server": g.server,
             "username": g.username, "register": "on" if g.register else None}
            for g in trunk.gateways.order_by("position", "pk")]


class TestScope:
    def test_reseller_lists_only_its_subtree(self, tree, trunks):
        response = admin_as(tree, "r1_admin").get(TRUNKS)
        assert response.status_code == 200
        assert listed(response) == {"R1 carrier", "C1 carrier"}
        assert "2 trunks" in response.content.decode()

    def test_master_lists_everything(self, tree, trunks):
        assert listed(admin_as(tree, "master_admin").get(TRUNKS)) == {
            "Platform", "R1 carrier", "C1 carrier", "R2 secret"}

    def test_columns(self, tree, trunks):
        html = admin_as(tree, "r1_admin").get(TRUNKS).content.decode()
        row = html.split(">C1 carrier</a>")[1].split("</tr>")[0]
        assert re.findall(r'<td class="field-(\w+)[^"]*">([^<]*)</td>', row) == [
            ("account", "C1"), ("weight_cost", "50"), ("gateway_count", "2"),
            ("rule_list", r"^\+(1\d{10})$"), ("pinging", "off")]
        row = html.split(">R1 carrier</a>")[1].split("</tr>")[0]
        assert '<td class="field-rule_list">every number</td>' in row

    @pytest.mark.parametrize("term", ["secret", "Platform", "R2"])
    def test_search_never_finds_outside(self, tree, trunks, term):
        assert listed(admin_as(tree, "r1_admin").get(TRUNKS, {"q": term})) == set()

    def test_filter_by_account(self, tree, trunks):
        browser = admin_as(tree, "r1_admin")
        assert listed(browser.get(TRUNKS, {"account": tree.c1.pk})) == {"C1 carrier"}
        for outside in (tree.c2, tree.master):
            assert listed(browser.get(TRUNKS, {"account": outside.pk})) == set()
        assert listed(browser.get(TRUNKS, {"account": "junk"})) == set()

    def test_filter_sidebar_names_only_inside_accounts(self, tree, trunks):
        html = admin_as(tree, "r1_admin").get(TRUNKS).content.decode()
        assert shows(html, "C1") and shows(html, "R1")
        assert not shows(html, "C2") and not shows(html, "Provider")

    @pytest.mark.parametrize("url", TRUNK_URLS)
    @pytest.mark.parametrize("target", ["c2", "platform"])
    def test_outside_is_404_like_missing(self, tree, trunks, url, target):
        browser = admin_as(tree, "r1_admin")
        pk = trunks[target].pk
        assert browser.get(TRUNKS + url.format(pk=pk)).status_code == 404
        assert browser.post(TRUNKS + url.format(pk=pk)).status_code == 404
        assert browser.get(TRUNKS + url.format(pk=999999)).status_code == 404

    def test_posts_to_outside_change_nothing(self, tree, trunks):
        browser = admin_as(tree, "r1_admin")
        theirs = trunks["c2"]
        browser.post(f"{TRUNKS}{theirs.pk}/change/", trunk_form(
            name="pwned", existing=[{**existing_rows(theirs)[0], "server": "evil.example.com"}],
            gateways=()))
        browser.post(f"{TRUNKS}{theirs.pk}/delete/", {"post": "yes"})
        theirs.refresh_from_db()
        assert theirs.name == "R2 secret"
        assert theirs.gateways.get().server == "sip.r2-carrier.example.com"

    def test_bulk_delete_with_outside_ids_touches_only_inside(self, tree, trunks):
        browser = admin_as(tree, "r1_admin")
        ids = [trunks[k].pk for k in ("c1", "c2", "platform")]
        browser.post(TRUNKS, {"action": "delete_selected_trunks", "_selected_action": ids})
        browser.post(TRUNKS, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
        assert set(Trunk.objects.values_list("name", flat=True)) == {"Platform", "R1 carrier", "R2 secret"}

    def test_gateway_of_another_trunk_cannot_be_smuggled_in(self, tree, trunks):
        """A crafted inline row naming a gateway of r2's trunk."""
        mine, theirs = trunks["c1"], trunks["c2"]
        foreign = {**existing_rows(theirs)[0], "trunk": str(mine.pk), "server": "evil.example.com"}
        response = admin_as(tree, "r1_admin").post(
            f"{TRUNKS}{mine.pk}/change/",
            trunk_form(name="Renamed", existing=[*existing_rows(mine), foreign], gateways=()))
        assert response.status_code == 200
        assert theirs.gateways.get().server == "sip.r2-carrier.example.com"
        assert mine.gateways.count() == 2
        mine.refresh_from_db()  # an invalid inline row: the trunk itself is not written either
        assert (mine.name, mine.rules) == ("C1 carrier", [r"^\+(1\d{10})$"])

    @pytest.mark.parametrize("term", ["R2", "C2", "Provider", ""])
    def test_autocomplete_never_offers_outside_accounts(self, tree, trunks, term):
        """Django's autocomplete answers from the related admin's (scoped) queryset."""
        response = admin_as(tree, "r1_admin").get("/admin/autocomplete/", {
            "app_label": "carriers", "model_name": "trunk", "field_name": "account", "term": term})
        found = {r["text"] for r in response.json()["results"]} if response.status_code == 200 else set()
        assert found <= {"R1", "C1", "R1A", "C1A"}


    @pytest.mark.parametrize("term", ["secret", "Platform", ""])
    def test_autocomplete_never_offers_outside_trunks(self, tree, trunks, term):
        response = admin_as(tree, "r1_admin").get("/admin/autocomplete/", {
            "app_label": "carriers", "model_name": "gateway", "field_name": "trunk", "term": term})
        assert response.status_code == 200  # trunks are searchable, within the scope
        found = {r["text"] for r in response.json()["results"]}
        assert found == ({"R1 carrier", "C1 carrier"} if term == "" else set())


class TestRoles:
    def test_read_only_views_but_never_writes(self, tree, trunks):
        browser = admin_as(tree, "r1_readonly")
        mine = trunks["c1"]
        page = browser.get(f"{TRUNKS}{mine.pk}/change/")
        assert page.status_code == 200
        assert 'name="name"' not in page.content.decode()
        assert browser.post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="renamed", existing=existing_rows(mine), gateways=())).status_code == 403
        assert browser.get(f"{TRUNKS}add/").status_code == 403
        assert browser.post(f"{TRUNKS}add/", trunk_form(tree.c1)).status_code == 403
        assert browser.post(f"{TRUNKS}{mine.pk}/delete/", {"post": "yes"}).status_code == 403
        browser.post(TRUNKS, {"action": "delete_selected_trunks", "_selected_action": [mine.pk]})
        source = {"account": tree.c1.pk, "source": "local"}
        assert browser.post(f"{TRUNKS}sources/", source).status_code == 403
        mine.refresh_from_db()
        assert mine.name == "C1 carrier"
        tree.c1.refresh_from_db()
        assert tree.c1.trunk_source == Account.TrunkSource.PARENT

    def test_reseller_sees_its_own_accounts_trunks_read_only(self, tree, trunks):
        """The provider chooses the reseller's own carriers."""
        browser = admin_as(tree, "r1_admin")
        theirs = trunks["r1"]
        assert browser.get(f"{TRUNKS}{theirs.pk}/change/").status_code == 200
        assert browser.post(f"{TRUNKS}{theirs.pk}/change/", trunk_form(
            name="mine now", existing=existing_rows(theirs), gateways=())).status_code == 403
        assert browser.post(f"{TRUNKS}{theirs.pk}/delete/", {"post": "yes"}).status_code == 403
        theirs.refresh_from_db()
        assert theirs.name == "R1 carrier"

    @pytest.mark.parametrize("username", ["c1_admin", "c2_admin"])
    def test_customer_staff_have_no_admin(self, tree, trunks, username):
        browser = Browser("localhost")
        response = browser.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
        assert response.status_code == 200  # refused, the login form again
        assert browser.get(TRUNKS).status_code == 302
        forced = admin_as(tree, username)
        assert forced.get(TRUNKS).status_code == 302
        assert forced.get(f"{TRUNKS}{trunks['c1'].pk}/change/").status_code == 302
        forced.post(f"{TRUNKS}{trunks['c1'].pk}/delete/", {"post": "yes"})
        assert Trunk.objects.filter(pk=trunks["c1"].pk).exists()


class TestAddForm:
    def test_account_choices_are_the_accounts_the_user_manages(self, tree):
        html = admin_as(tree, "r1_admin").get(f"{TRUNKS}add/").content.decode()
        select = html.split('name="account"')[1].split("</select>")[0]
        options = {int(o) for o in re.findall(r'<option value="(\d+)"', select)}
        assert options == {tree.c1.pk, tree.r1a.pk, tree.c1a.pk}

    def test_master_may_add_platform_trunks(self, tree):
        html = admin_as(tree, "master_admin").get(f"{TRUNKS}add/").content.decode()
        select = html.split('name="account"')[1].split("</select>")[0]
        assert str(tree.master.pk) in re.findall(r'<option value="(\d+)"', select)

    @pytest.mark.parametrize("target", ["c2", "r1", "master"])
    def test_account_outside_what_one_manages_is_refused(self, tree, target):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(getattr(tree, target)))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not Trunk.objects.exists()

    def test_create_with_gateways_through_the_actions(self, tree):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(
            tree.c1, rules="^\\+(1\\d{10})$\n\n^\\+(44\\d{9,10})$\n",
            gateways=[{"server": "sip.carrier.example.com", "username": "acct",
                       "password": "carrier-pw", "register": "on", "codecs": "PCMU,G722"},
                      {"server": "backup.carrier.example.com", "position": "1"}]))
        assert response.status_code == 302, response.content.decode()[:3000]
        trunk = Trunk.objects.get(name="New carrier")
        assert trunk.account == tree.c1
        assert trunk.rules == [r"^\+(1\d{10})$", r"^\+(44\d{9,10})$"]
        first, second = trunk.gateways.order_by("position")
        assert (first.server, first.codecs, first.register) == (
            "sip.carrier.example.com", ["PCMU", "G722"], True)
        assert decrypt_secret(first.password_encrypted) == "carrier-pw"
        assert second.server == "backup.carrier.example.com" and second.password_encrypted == ""
        event = AuditEvent.objects.get(action="trunk.create")
        assert (event.actor, event.account, event.ip) == (tree.user("r1_admin"), tree.c1, "127.0.0.1")

    def test_invalid_regex_is_a_line_error_and_nothing_is_saved(self, tree):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(
            tree.c1, rules="^\\+1\\d{10}$\n^\\+(44\n", caller_id_regex="(unclosed"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Line 2: “^\\+(44” is not a valid regular expression" in html.replace("&quot;", '"')
        assert "Line 1" not in html
        assert "caller_id_regex" in html and "not a valid regular expression: missing )" in html
        assert not Trunk.objects.exists() and not Gateway.objects.exists()

    def test_bad_gateway_is_a_field_error(self, tree):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(
            tree.c1, gateways=[{"server": "not a host", "port": "70000"}]))
        assert response.status_code == 200
        assert not Trunk.objects.exists()

    def test_registering_needs_credentials(self, tree):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(
            tree.c1, gateways=[{**GATEWAY, "register": "on"}]))
        assert response.status_code == 200
        assert "Registering needs a username and a password." in response.content.decode()
        assert not Trunk.objects.exists()

    def test_a_trunk_needs_a_gateway(self, tree):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(tree.c1, gateways=()))
        assert response.status_code == 200
        assert not Trunk.objects.exists()

    def test_duplicate_name_is_a_field_error(self, tree, trunks):
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}add/", trunk_form(tree.c1, name="c1 CARRIER"))
        assert response.status_code == 200
        assert "C1 already has a trunk named c1 CARRIER." in response.content.decode()
        assert Trunk.objects.filter(account=tree.c1).count() == 1


class TestChangeForm:
    def test_edit_trunk_and_gateways_through_the_actions(self, tree, trunks):
        mine = trunks["c1"]
        first, second = existing_rows(mine)
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="C1 carrier", weight_cost="10", rules=r"^\+(1\d{10})$",
            existing=[{**first, "server": "sip2.carrier.example.com"}, {**second, "DELETE": "on"}],
            gateways=[{"server": "third.carrier.example.com", "position": "2"}]))
        assert response.status_code == 302, response.content.decode()[:3000]
        mine.refresh_from_db()
        assert mine.weight_cost == 10
        assert sorted(mine.gateways.values_list("server", flat=True)) == [
            "sip2.carrier.example.com", "third.carrier.example.com"]
        done = dict(AuditEvent.objects.filter(account=tree.c1).values_list("action", "ip"))
        assert {"trunk.update", "gateway.update", "gateway.create", "gateway.delete"} <= set(done)
        assert {done[a] for a in ("trunk.update", "gateway.update", "gateway.create", "gateway.delete")} == {
            "127.0.0.1"}

    def test_only_gateway_can_be_replaced_but_not_removed(self, tree, trunks):
        mine = trunks["r1"]
        browser = admin_as(tree, "master_admin")
        [row] = existing_rows(mine)
        response = browser.post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="R1 carrier", existing=[{**row, "DELETE": "on"}], gateways=()))
        assert response.status_code == 200
        assert mine.gateways.count() == 1
        response = browser.post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="R1 carrier", existing=[{**row, "DELETE": "on"}],
            gateways=[{"server": "new.carrier.example.com"}]))
        assert response.status_code == 302
        assert list(mine.gateways.values_list("server", flat=True)) == ["new.carrier.example.com"]

    def test_invalid_regex_on_change_saves_nothing(self, tree, trunks):
        mine = trunks["c1"]
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="Renamed", rules="^\\+(1\n", existing=existing_rows(mine), gateways=()))
        assert response.status_code == 200
        assert "Line 1:" in response.content.decode()
        mine.refresh_from_db()
        assert (mine.name, mine.rules) == ("C1 carrier", [r"^\+(1\d{10})$"])

    def test_password_is_write_only(self, tree, trunks):
        theirs = trunks["c2"]
        browser = admin_as(tree, "r2_admin")
        encrypted = theirs.gateways.get().password_encrypted
        html = browser.get(f"{TRUNKS}{theirs.pk}/change/").content.decode()
        assert "r2-carrier-pw" not in html and encrypted not in html
        assert re.search(r'<input type="password" name="gateways-0-password"[^>]*>', html)
        assert 'value=' not in re.search(r'<input type="password" name="gateways-0-password"[^>]*>',
                                         html).group(0)
        # Blank keeps it (the gateway still registers) ...
        [row] = existing_rows(theirs)
        response = browser.post(f"{TRUNKS}{theirs.pk}/change/", trunk_form(
            name="R2 secret", existing=[{**row, "port": "5080"}], gateways=()))
        assert response.status_code == 302, response.content.decode()[:3000]
        gateway = theirs.gateways.get()
        assert gateway.port == 5080 and decrypt_secret(gateway.password_encrypted) == "r2-carrier-pw"
        # ... a new one replaces it ...
        browser.post(f"{TRUNKS}{theirs.pk}/change/", trunk_form(
            name="R2 secret", existing=[{**row, "password": "rotated-pw"}], gateways=()))
        assert decrypt_secret(theirs.gateways.get().password_encrypted) == "rotated-pw"
        # ... and clearing it is refused while the gateway registers.
        response = browser.post(f"{TRUNKS}{theirs.pk}/change/", trunk_form(
            name="R2 secret", existing=[{**row, "clear_password": "on"}], gateways=()))
        assert response.status_code == 200
        assert "Registering needs a username and a password." in response.content.decode()
        assert decrypt_secret(theirs.gateways.get().password_encrypted) == "rotated-pw"

    def test_action_refusal_is_a_form_error_and_rolls_everything_back(self, tree, trunks, monkeypatch):
        """What only the action catches (e.g. a concurrent change) is shown on the form,
        and the trunk change made before it in the same submission is undone."""
        def refuse(*args, **kwargs):
            raise ValidationError({"server": ["The carrier refused this server."]})

        monkeypatch.setattr(actions, "do_save_gateway", refuse)
        mine = trunks["c1"]
        first, second = existing_rows(mine)
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="Renamed", existing=[{**first, "server": "other.example.com"}, second], gateways=()))
        assert response.status_code == 200
        assert "Server: The carrier refused this server." in response.content.decode()
        mine.refresh_from_db()
        assert mine.name == "C1 carrier"
        assert not AuditEvent.objects.filter(action="trunk.update").exists()

    def test_action_refusal_on_a_trunk_field_lands_on_that_field(self, tree, trunks, monkeypatch):
        def refuse(*args, **kwargs):
            raise ValidationError({"weight_cost": ["Too cheap to be true."]})

        monkeypatch.setattr(actions, "do_update_trunk", refuse)
        mine = trunks["c1"]
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}{mine.pk}/change/", trunk_form(
            name="C1 carrier", weight_cost="1", existing=existing_rows(mine), gateways=()))
        html = response.content.decode()
        assert response.status_code == 200
        assert re.search(r'<ul class="errorlist"[^>]*><li>Too cheap to be true.</li></ul>', html)

    def test_delete_through_the_action(self, tree, trunks):
        mine = trunks["c1"]
        response = admin_as(tree, "r1_admin").post(f"{TRUNKS}{mine.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not Trunk.objects.filter(pk=mine.pk).exists()
        assert AuditEvent.objects.filter(action="trunk.delete", account=tree.c1).exists()


class TestTrunkSources:
    URL = f"{TRUNKS}sources/"

    def test_reseller_sets_a_customer_to_local(self, tree):
        browser = admin_as(tree, "r1_admin")
        response = browser.post(self.URL, {"account": tree.c1.pk, "source": "local"})
        assert response.status_code == 302
        tree.c1.refresh_from_db()
        assert tree.c1.trunk_source == Account.TrunkSource.LOCAL
        assert AuditEvent.objects.filter(action="account.trunk_source", account=tree.c1).exists()

    @pytest.mark.parametrize("target", ["c2", "r1", "master"])
    def test_accounts_one_does_not_manage_are_refused(self, tree, target):
        account = getattr(tree, target)
        response = admin_as(tree, "r1_admin").post(self.URL, {"account": account.pk, "source": "local"})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        account.refresh_from_db()
        assert account.trunk_source == Account.TrunkSource.PARENT

    def test_page_names_only_inside_accounts(self, tree):
        browser = admin_as(tree, "r1_admin")
        html = browser.get(self.URL).content.decode()
        assert shows(html, "C1") and shows(html, "C1A")
        assert not shows(html, "C2") and not shows(html, "R2") and not shows(html, "Provider")
        assert browser.get(self.URL, {"account": tree.c1.pk}).status_code == 200
        assert browser.get(self.URL, {"account": tree.c2.pk}).status_code == 404
