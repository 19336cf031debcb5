"""What kind of call a dialed number is, read the way a caller in the account's country
means it (``phonenumbers``: national formats, the international prefix such as 011 or
00, emergency short numbers per country).

The class is decided by the number's *region*, not its country calling code: +1 is
shared by the 25 countries of the North American Numbering Plan, and a call from the
US to Jamaica (+1 876) or the Dominican Republic (+1 809) is billed as international.
Premium-rate and other revenue-share ranges (the holder of the number is paid per
minute: the classic toll-fraud target) are marked on top of the class, and need their
own permission. A number no region has assigned is refused, with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType


class CallClass(StrEnum):
    # The values are the words of the directory's toll_allow variable.
    EMERGENCY = "emergency"
    LOCAL = "local"
    DOMESTIC = "domestic"
    INTERNATIONAL = "international"


# The toll_allow word for revenue-share numbers, needed besides the call's class.
PREMIUM = "premium"
# Ranges whose caller pays more than a call and whose holder is paid for it: premium rate
# (+1 900, UK 09, DE 0900), shared cost (UK 084/087, DE 0180), universal access numbers
# (UK 055, priced by the terminating network) and personal numbers (UK 070, NANP 500:
# up to premium prices and a known fraud route). Toll-free, mobile and VoIP ranges are
# ordinary calls of their region.
PREMIUM_TYPES = frozenset({PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST,
                           PhoneNumberType.UAN, PhoneNumberType.PERSONAL_NUMBER})
MAX_DIALED_LENGTH = 20

_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "starts with no country calling code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "is not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short",
    phonenumbers.NumberParseException.TOO_LONG: "is too long",
}
_LENGTH_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "starts with no country calling code",
    phonenumbers.ValidationResult.TOO_SHORT: "is too short",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
    phonenumbers.ValidationResult.TOO_LONG: "is too long",
    # A number without its area code, only dialable inside the area: no carrier takes it.
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is too short (add the area code)",
}


class UncallableNumber(ValueError):
    """A dialed number no carrier could complete; the message says why, for people."""


@dataclass(frozen=True)
class DialedNumber:
    number: str  # E.164, or the short number itself for an emergency call
    call_class: CallClass
    premium: bool = False
    region: str = ""  # ISO 3166 code of the number's region ("001": a non-geographic one)

    @property
    def needs(self) -> frozenset[str]:
        """The toll_allow words a caller needs to place this call."""
        return frozenset({self.call_class.value, *([PREMIUM] if self.premium else [])})

    def describe(self) -> str:
        """The class as people read it: "international", "domestic premium-rate"."""
        return f"{self.call_class.value} premium-rate" if self.premium else self.call_class.value


def read_dialed(dialed: str, country: str, home_number: str = "") -> DialedNumber:
    """What dialing ``dialed`` from an account in ``country`` calls; raises
    UncallableNumber when no carrier could complete it. ``home_number`` (the account's
    main number, E.164) defines "local": the same area code in the account's region."""
    digits = dialed.strip()
    if not digits:
        raise UncallableNumber("No number was dialed.")
    if len(digits) > MAX_DIALED_LENGTH:
        raise UncallableNumber(f"{digits[:MAX_DIALED_LENGTH]}… is too long to be a phone number.")
    if phonenumbers.is_emergency_number(digits, country):
        return DialedNumber(digits, CallClass.EMERGENCY, region=country)
    try:
        parsed = phonenumbers.parse(digits, country)
    except phonenumbers.NumberParseException as exc:
        why = _PARSE_REASONS.get(exc.error_type, "is not a phone number")
        raise UncallableNumber(f"{digits} {why}.") from exc
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise UncallableNumber(f"{digits} {_LENGTH_REASONS.get(possible, 'is not a phone number')}.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(parsed):
        where = phonenumbers.region_code_for_country_code(parsed.country_code)
        raise UncallableNumber(f"{e164} is not a valid number: no {where} range holds it.")
    region = phonenumbers.region_code_for_number(parsed) or ""
    kind = phonenumbers.number_type(parsed)
    premium = kind in PREMIUM_TYPES
    home_code = phonenumbers.country_code_for_region(country)
    if region == country or (kind == PhoneNumberType.TOLL_FREE and parsed.country_code == home_code):
        # Toll-free ranges of a shared calling code (NANP 800, 888, ...) are filed under
        # its main region but free from all of them.
        call_class = CallClass.DOMESTIC
        if region == country and home_number and _area_code(parsed) == _home_area_code(home_number):
            call_class = CallClass.LOCAL
    else:
        call_class = CallClass.INTERNATIONAL
    return DialedNumber(e164, call_class, premium=premium, region=region)


def classify(dialed: str, country: str, home_number: str = "") -> DialedNumber | None:
    """:func:`read_dialed`, with None for a number that cannot be called."""
    try:
        return read_dialed(dialed, country, home_number)
    except UncallableNumber:
        return None


def _area_code(number: phonenumbers.PhoneNumber) -> str:
    length = phonenumbers.length_of_geographical_area_code(number)
    return phonenumbers.national_significant_number(number)[:length] if length else ""


def _home_area_code(home_number: str) -> str:
    try:
        return _area_code(phonenumbers.parse(home_number, None))
    except phonenumbers.NumberParseException:
        return ""
