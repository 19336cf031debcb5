"""Auto attendants: settings, prompts, keys, exit destination, deleting."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_ivr,
    do_create_ring_group,
    do_delete_ivr,
    do_set_ivr_options,
    do_update_ivr,
)
from pbx.models import Ivr, IvrOption, MediaStatus, Prompt
from pbx.numbers import do_route_number
from tenants.models import AuditEvent, PhoneNumber
from tests.pbx.routing_helpers import exists, extension, last_event, padded, ref, refused, reload


def options_of(account, ivr) -> dict[str, str]:
    with schema_context(account.schema_name):
        return dict(IvrOption.objects.filter(ivr_id=ivr.pk).values_list("key", "destination"))


def prompt(account, name: str, status=MediaStatus.READY) -> Prompt:
    with schema_context(account.schema_name):
        return Prompt.objects.create(name=name, status=status)


def test_create_a_menu_with_keys(tree):
    alice = extension(tree.c1, "1001")
    greeting = prompt(tree.c1, "Welcome")
    ivr = do_create_ivr(tree.c1, name="Main", number="3000", greeting=greeting, attendant_timeout=8,
                        exit_destination=ref(alice))
    sub = do_create_ivr(tree.c1, name="Support menu")
    do_set_ivr_options(tree.c1, ivr, {"1": ref(alice), "2": ref(sub), "9": ref(ivr),
                                      "*": "directory", "#": "check_voicemail", "5": ""})
    stored = reload(tree.c1, ivr)
    assert (stored.greeting_id, stored.attendant_timeout, stored.exit_destination) == (
        greeting.pk, 8, ref(alice))
    # A key may lead to another menu or repeat this one: the caller chose it.
    assert options_of(tree.c1, ivr) == {"1": ref(alice), "2": ref(sub), "9": ref(ivr),
                                        "*": "directory", "#": "check_voicemail"}
    assert [e.details for e in AuditEvent.objects.filter(account=tree.c1, action="ivr.create")
            .order_by("id")] == [{"name": "Main", "number": "3000"}, {"name": "Support menu", "number": ""}]
    assert last_event(tree.c1, "ivr.options").details["options"]["9"] == ref(ivr)


def test_setting_keys_replaces_them(tree):
    alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
    ivr = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, ivr, {"1": ref(alice), "2": ref(bob)})
    do_set_ivr_options(tree.c1, ivr, {"2": ref(alice)})
    assert options_of(tree.c1, ivr) == {"2": ref(alice)}


def test_key_errors_name_each_key_and_nothing_is_saved(tree):
    alice = extension(tree.c1, "1001")
    ivr = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, ivr, {"1": ref(alice)})
    with refused("options") as error:
        do_set_ivr_options(tree.c1, ivr, {"1": ref(alice), "12": ref(alice), "3": "ring_group:77",
                                          "4": "external:555"})
    assert error.messages == ["Key 12: A key is 0-9, * or #.",
                              "Key 3: That ring group no longer exists.",
                              "Key 4: Write the external number in E.164 form (+…)."]
    assert options_of(tree.c1, ivr) == {"1": ref(alice)}


def test_the_exit_may_not_lead_back_to_the_menu(tree):
    ivr = do_create_ivr(tree.c1, name="Main")
    with refused("exit_destination") as error:
        do_update_ivr(tree.c1, ivr, exit_destination=ref(ivr))
    assert error.messages == ["This would send calls round in a loop: Auto attendant (IVR) Main → "
                              "Auto attendant (IVR) Main."]
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(ivr))
    with refused("exit_destination") as error:
        do_update_ivr(tree.c1, ivr, exit_destination=ref(group))
    assert ("Auto attendant (IVR) Main → Ring group 2000 Sales → Auto attendant (IVR) Main"
            in error.messages[0])


def test_settings_are_validated_by_field(tree):
    with refused("attendant_timeout"):
        do_create_ivr(tree.c1, name="Main", attendant_timeout=0)
    with refused("max_attempts"):
        do_create_ivr(tree.c1, name="Main", max_attempts=11)
    with refused("exit_destination") as error:
        do_create_ivr(tree.c1, name="Main", exit_destination="check_voicemail")
    assert error.messages[0].startswith("Choose one of:")
    do_create_ivr(tree.c1, name="Main")
    with refused("name"):
        do_create_ivr(tree.c1, name="Main")


def test_prompts_must_be_the_tenants_own_and_playable(tree):
    for n in range(3):
        prompt(tree.c1, f"pad {n}")
    theirs = prompt(tree.c1, "Victim greeting")
    with schema_context(tree.c2.schema_name):
        assert not Prompt.objects.filter(pk=theirs.pk).exists()
    with refused("greeting") as error:
        do_create_ivr(tree.c2, name="Main", greeting=theirs)
    assert error.messages == ["That prompt does not exist."]
    broken = prompt(tree.c2, "Broken", MediaStatus.FAILED)
    with refused("invalid_prompt") as error:
        do_create_ivr(tree.c2, name="Main", invalid_prompt=broken.pk)
    assert error.messages == ["The recording “Broken” could not be converted; upload it again."]
    with refused("greeting") as error:
        do_create_ivr(tree.c2, name="Main", greeting=prompt(tree.c2, "New", MediaStatus.PENDING))
    assert error.messages == ["The recording “New” is not ready to play yet."]
    ivr = do_create_ivr(tree.c2, name="Main", timeout_prompt=prompt(tree.c2, "Hello"))
    do_update_ivr(tree.c2, ivr, timeout_prompt=None)
    assert reload(tree.c2, ivr).timeout_prompt_id is None


def test_deleting_a_menu_a_route_uses_is_refused_but_its_own_keys_do_not_count(tree):
    ivr = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, ivr, {"9": ref(ivr)})
    did = PhoneNumber.objects.create(e164="+14165550100", account=tree.c1)
    do_route_number(tree.c1, did, route=ref(ivr))
    with refused() as error:
        do_delete_ivr(tree.c1, ivr)
    assert error.messages == ["Auto attendant (IVR) Main is still used by: Phone number +14165550100. "
                              "Change those routes first."]
    do_route_number(tree.c1, did, route="")
    do_delete_ivr(tree.c1, ivr)
    assert not exists(tree.c1, ivr)
    assert last_event(tree.c1, "ivr.delete").details == {"name": "Main"}


def test_another_tenants_objects_cannot_be_keys_or_exit(tree):
    padded(tree.c1, 3)
    victim = extension(tree.c1, "1001", "Victim")
    victim_menu = do_create_ivr(tree.c1, name="Victim menu")
    do_create_ivr(tree.c1, name="Victim menu 2")
    ivr = do_create_ivr(tree.c2, name="Attacker menu")
    with refused("options") as error:
        do_set_ivr_options(tree.c2, ivr, {"1": ref(victim)})
    assert error.messages == ["Key 1: That extension no longer exists."]
    with refused("exit_destination"):
        do_update_ivr(tree.c2, ivr, exit_destination=ref(victim))
    with schema_context(tree.c1.schema_name):
        second = Ivr.objects.get(name="Victim menu 2")
    assert second.pk != ivr.pk
    with pytest.raises(Ivr.DoesNotExist):
        do_set_ivr_options(tree.c2, second, {"1": "hangup"})
    with pytest.raises(Ivr.DoesNotExist):
        do_delete_ivr(tree.c2, second)
    assert exists(tree.c1, second) and exists(tree.c1, victim_menu)
