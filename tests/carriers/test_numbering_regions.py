"""Issue 16, hole 2: "domestic" calls that cost like international ones. The North
American Numbering Plan spans 25 countries under +1, so the calling code says nothing
about the bill: the number's region does. Premium-rate and other revenue-share ranges are
a class of their own, and numbers no region has assigned are refused with a reason."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from carriers.numbering import CallClass, UncallableNumber, classify, read_dialed

NANP_REGIONS = sorted(phonenumbers.region_codes_for_country_code(1))


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def nanp_examples() -> list[tuple[str, str]]:
    """(region, number) for every NANP region: its fixed-line and mobile example numbers
    from libphonenumber's own metadata."""
    examples = []
    for region in NANP_REGIONS:
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append((region, e164(number)))
    return sorted(set(examples))


def test_the_plan_has_its_25_regions_and_examples_for_each():
    assert len(NANP_REGIONS) == 25
    assert {region for region, _ in nanp_examples()} == set(NANP_REGIONS)


@pytest.mark.parametrize("country", ["US", "CA"])
@pytest.mark.parametrize("region,number", nanp_examples())
def test_every_nanp_region_but_the_accounts_own_is_international(country, region, number):
    for dialed in (number, number[1:], number[2:]):  # +1NXX..., 1NXX..., NXX... as dialed
        found = classify(dialed, country)
        assert found is not None, dialed
        assert found.number == number
        assert found.region == region
        expected = CallClass.DOMESTIC if region == country else CallClass.INTERNATIONAL
        assert found.call_class is expected, (dialed, country, region)
        assert not found.premium


@pytest.mark.parametrize("dialed,region", [
    ("+18765550123", "JM"),  # the issue's Jamaica
    ("+18095550123", "DO"),  # the issue's Dominican Republic
    ("18762101234", "JM"),
    ("6495550123", None),  # not assigned in Turks and Caicos: refused below
])
def test_the_issues_caribbean_numbers_are_not_domestic_for_a_us_account(dialed, region):
    found = classify(dialed, "US")
    if region is None:
        assert found is None
        return
    assert (found.region, found.call_class) == (region, CallClass.INTERNATIONAL)


@pytest.mark.parametrize("country,dialed,call_class", [
    ("US", "+19002345678", CallClass.DOMESTIC),  # premium inside the US is still domestic...
    ("US", "19005550123", CallClass.DOMESTIC),
    ("CA", "+19002345678", CallClass.INTERNATIONAL),  # ...and a US 900 number from Canada is not
    ("US", "+15002345678", CallClass.DOMESTIC),  # NANP personal numbers (500): revenue share
    ("US", "+449012345678", CallClass.INTERNATIONAL),  # UK premium rate (09)
    ("US", "+445512345678", CallClass.INTERNATIONAL),  # UK UAN (055)
    ("US", "+447012345678", CallClass.INTERNATIONAL),  # UK personal numbers (070)
    ("GB", "09012345678", CallClass.DOMESTIC),
    ("GB", "07012345678", CallClass.DOMESTIC),
    ("DE", "018012345", CallClass.DOMESTIC),  # German shared cost (0180)
    ("FR", "0891123456", CallClass.DOMESTIC),  # French premium (089)
    ("AU", "1900123456", CallClass.DOMESTIC),
])
def test_premium_rate_ranges_are_marked(country, dialed, call_class):
    found = classify(dialed, country)
    assert found is not None
    assert found.premium, found
    assert found.call_class is call_class
    assert found.needs == {call_class.value, "premium"}


@pytest.mark.parametrize("country,dialed", [
    ("US", "+18002345678"), ("CA", "+18002345678"), ("CA", "18885550100"),
])
def test_north_american_toll_free_is_domestic_from_every_nanp_country(country, dialed):
    """Toll-free numbers are shared by the whole plan (libphonenumber files them under
    the US) and cost the caller nothing."""
    found = classify(dialed, country)
    assert (found.call_class, found.premium) == (CallClass.DOMESTIC, False)


@pytest.mark.parametrize("country,dialed,words", [
    ("US", "+19765550123", "not a valid number"),  # the issue's 976: no such range today
    ("US", "+17005550100", "not a valid number"),
    ("US", "5550123", "too short"),
    ("US", "+1", "not a phone number"),
    ("US", "+9995550123", "no country"),
    ("US", "hello", "not a phone number"),
    ("US", "+4420794600001234", "too long"),
])
def test_numbers_that_cannot_be_called_say_why(country, dialed, words):
    with pytest.raises(UncallableNumber) as raised:
        read_dialed(dialed, country)
    assert words in str(raised.value)
    assert classify(dialed, country) is None


def test_local_is_only_for_the_accounts_own_region():
    assert classify("4165550123", "CA", "+14165550100").call_class is CallClass.LOCAL
    assert classify("6135550123", "CA", "+14165550100").call_class is CallClass.DOMESTIC
    # A US account whose main number is in Toronto: Toronto is still Canada.
    assert classify("4165550123", "US", "+14165550100").call_class is CallClass.INTERNATIONAL
    assert classify("2125550123", "US", "+12125550100").call_class is CallClass.LOCAL
