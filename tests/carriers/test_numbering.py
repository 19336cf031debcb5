"""Reading a dialed number the way a caller in the account's country means it."""

from __future__ import annotations

import pytest

from carriers.numbering import CallClass, classify

HOME = "+14165550100"


@pytest.mark.parametrize("dialed,country,number,call_class", [
    ("911", "US", "911", CallClass.EMERGENCY),
    ("112", "GB", "112", CallClass.EMERGENCY),
    ("999", "GB", "999", CallClass.EMERGENCY),
    ("4165550123", "CA", "+14165550123", CallClass.LOCAL),
    ("14165550123", "CA", "+14165550123", CallClass.LOCAL),
    ("+14165550123", "CA", "+14165550123", CallClass.LOCAL),
    ("6135550123", "CA", "+16135550123", CallClass.DOMESTIC),
    ("011442079460000", "US", "+442079460000", CallClass.INTERNATIONAL),
    ("01114165550123", "US", "+14165550123", CallClass.INTERNATIONAL),  # Canada, from the US
    ("+442079460000", "US", "+442079460000", CallClass.INTERNATIONAL),
    ("02079460000", "GB", "+442079460000", CallClass.DOMESTIC),
    ("+14165550123", "GB", "+14165550123", CallClass.INTERNATIONAL),
])
def test_classify(dialed, country, number, call_class):
    found = classify(dialed, country, HOME)
    assert (found.number, found.call_class) == (number, call_class)


@pytest.mark.parametrize("dialed", ["1002", "5550123", "+1", "", "abc", "9" * 30, "*97"])
def test_not_a_number_a_carrier_could_complete(dialed):
    assert classify(dialed, "US", HOME) is None


def test_without_a_home_number_nothing_is_local():
    assert classify("4165550123", "CA").call_class is CallClass.DOMESTIC
