"""What kind of call a dialed number is, read the way a caller in the account's country
means it (``phonenumbers``: national formats, the international prefix such as 011 or
00, emergency short numbers per country)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class CallClass(StrEnum):
    # The values are the words of the directory's toll_allow variable.
    EMERGENCY = "emergency"
    LOCAL = "local"
    DOMESTIC = "domestic"
    INTERNATIONAL = "international"


@dataclass(frozen=True)
class DialedNumber:
    number: str  # E.164, or the short number itself for an emergency call
    call_class: CallClass


def classify(dialed: str, country: str, home_number: str = "") -> DialedNumber | None:
    """None when ``dialed`` is not a number a carrier could complete. ``home_number`` (the
    account's main number, E.164) defines "local": the same area code."""
    digits = dialed.strip()
    if not digits or len(digits) > 20:
        return None
    if phonenumbers.is_emergency_number(digits, country):
        return DialedNumber(digits, CallClass.EMERGENCY)
    try:
        parsed = phonenumbers.parse(digits, country)
    except phonenumbers.NumberParseException:
        return None
    # "Local only" lengths (a number without its area code) cannot be sent to a carrier.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if parsed.country_code != phonenumbers.country_code_for_region(country):
        return DialedNumber(e164, CallClass.INTERNATIONAL)
    if home_number and _area_code(parsed) and _area_code(parsed) == _home_area_code(home_number):
        return DialedNumber(e164, CallClass.LOCAL)
    return DialedNumber(e164, CallClass.DOMESTIC)


def _area_code(number: phonenumbers.PhoneNumber) -> str:
    length = phonenumbers.length_of_geographical_area_code(number)
    return phonenumbers.national_significant_number(number)[:length] if length else ""


def _home_area_code(home_number: str) -> str:
    try:
        return _area_code(phonenumbers.parse(home_number, None))
    except phonenumbers.NumberParseException:
        return ""
