"""Field validators shared by models, forms and the API."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError

# RFC 1123 labels; the final label may not be all digits unless the whole name is an
# IPv4 address (the master keeps 127.0.0.1 so FreeSWITCH on the same box reaches it).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")


def normalize_domain(value: str) -> str:
    return (value or "").strip().rstrip(".").lower()


def is_ip_address(value: str) -> bool:
    return bool(_IPV4.match(normalize_domain(value)))


def validate_domain_name(value: str) -> None:
    name = normalize_domain(value)
    if not name:
        raise ValidationError("Enter a domain name.", code="required")
    if len(name) > 253:
        raise ValidationError("A domain name is at most 253 characters.", code="too_long")
    if _IPV4.match(name):
        return
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValidationError(
            "“%(value)s” is not a valid domain name: use letters, digits and hyphens "
            "separated by dots, e.g. acme.example.net.",
            code="invalid",
            params={"value": value},
        )
    if labels[-1].isdigit():
        raise ValidationError(
            "“%(value)s” is not a valid domain name.", code="invalid", params={"value": value}
        )


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(
            "“%(value)s” is not a known time zone (use an IANA name such as America/Toronto).",
            code="invalid",
            params={"value": value},
        )


def normalize_e164(value: str) -> str:
    """Return the E.164 form of a phone number, or raise a ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, None if value.startswith("+") else "US")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "“%(value)s” is not a phone number: %(reason)s",
            code="invalid",
            params={"value": value, "reason": str(exc)},
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            "“%(value)s” is not a valid phone number; write it in E.164 form, e.g. "
            "+14165550100.",
            code="invalid",
            params={"value": value},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    if value and normalize_e164(value) != value:
        raise ValidationError(
            "Write the number in E.164 form (%(e164)s).",
            code="not_e164",
            params={"e164": normalize_e164(value)},
        )


_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def validate_printable(value: str) -> None:
    """Names end up in SIP headers and FreeSWITCH XML: no control characters."""
    if _CONTROL.search(value or ""):
        raise ValidationError("Remove control characters (such as tabs or line breaks).",
                              code="control_characters")


def validate_each(values: list[str], validate, *, label: str = "Line", skip_blank: bool = True) -> None:
    """Run ``validate`` on every value; one ValidationError naming each failing position
    ("Line 2: ...")."""
    errors = []
    for position, value in enumerate(values, start=1):
        if skip_blank and not value:
            continue
        try:
            validate(value)
        except ValidationError as exc:
            errors += [f"{label} {position}: {message}" for message in exc.messages]
    if errors:
        raise ValidationError(errors)


def default_country() -> str:
    from django.conf import settings

    return settings.DEFAULT_COUNTRY


def validate_region(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            "“%(value)s” is not a country code phone numbers are known for (use e.g. US, CA, GB).",
            code="invalid", params={"value": value},
        )
