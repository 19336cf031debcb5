"""Domains: one primary SIP realm per account plus aliases, unique platform-wide."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.actions import clean_domains, do_set_domains
from tenants.models import Domain


@pytest.mark.parametrize("taken", ["c2.example.net", "C2.Example.NET", "c2.example.net.", " c2.localhost "])
def test_taken_primary_domain_is_refused_without_naming_the_owner(tree, taken):
    with pytest.raises(ValidationError) as exc:
        clean_domains(taken, [], None)
    message = exc.value.message_dict["domain"][0]
    assert "already in use" in message
    assert "C2" not in message


def test_taken_alias_is_an_alias_error(tree):
    with pytest.raises(ValidationError) as exc:
        clean_domains("fresh.example.net", ["c0.localhost"], None)
    assert list(exc.value.message_dict) == ["aliases"]


@pytest.mark.parametrize("bad", ["", "exa mple.net", "-bad.example.net", "a..b", "x" * 64 + ".net",
                                 "under_score.net", "1.2.3", "sip:acme.net"])
def test_invalid_names(tree, bad):
    with pytest.raises(ValidationError):
        clean_domains(bad, [], None)


def test_duplicate_within_one_request(tree):
    with pytest.raises(ValidationError):
        clean_domains("a.example.net", ["A.example.net"], None)


def test_database_refuses_duplicates_too(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.create(domain="c2.example.net", tenant=tree.c1, is_primary=False)


def test_one_primary_per_account(tree):
    # django-tenants' save() hands the primary flag over; the database backs it up.
    Domain.objects.create(domain="second.example.net", tenant=tree.c1, is_primary=True)
    assert list(tree.c1.domains.filter(is_primary=True).values_list("domain", flat=True)) == [
        "second.example.net"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.bulk_create([Domain(domain="third.example.net", tenant=tree.c1, is_primary=True)])


def test_change_domains_keeps_own_names_and_swaps_primary(tree):
    names = do_set_domains(tree.user("r1_admin"), tree.c1, primary="c1.localhost",
                           aliases=["c1.example.net", "new.c1.example.net"])
    assert names == ["c1.localhost", "c1.example.net", "new.c1.example.net"]
    assert tree.c1.primary_domain_name == "c1.localhost"
    assert set(tree.c1.domains.values_list("domain", flat=True)) == set(names)


def test_cannot_take_another_tenants_domain_by_editing(tree):
    with pytest.raises(ValidationError):
        do_set_domains(tree.user("r1_admin"), tree.c1, primary="c1.example.net",
                       aliases=["c2.localhost"])
    assert Domain.objects.get(domain="c2.localhost").tenant == tree.c2


def test_purge_frees_the_domain(tree):
    from tenants.actions import do_purge_account, do_soft_delete_account

    do_soft_delete_account(tree.user("r2_admin"), tree.c2)
    with pytest.raises(ValidationError):
        clean_domains("c2.example.net", [], None)  # reserved while soft-deleted
    do_purge_account(tree.c2)
    assert clean_domains("c2.example.net", [], None) == ["c2.example.net"]


@pytest.mark.parametrize("bare", ["default", "public", "acme"])
def test_tenant_domains_are_fully_qualified(tree, bare):
    """A bare name would double as a FreeSWITCH context name."""
    with pytest.raises(ValidationError):
        clean_domains(bare, [], None)
