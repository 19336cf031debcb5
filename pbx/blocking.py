"""Call blocking as the dialplan applies it: which block (if any) stops a call, and the
same decision as one PCRE expression for a dialplan ``<condition field="caller_id_number"
expression="...">`` of calls from outside (the public context). Pure functions over
CallBlock rows (or anything with ``pattern``, ``anonymous`` and ``direction``).

A block's pattern is E.164 (+12125551234) or an E.164 prefix ending in "*" (+1900*).
Carriers present the same caller as +12125551234, 12125551234 or, from the account's
own country, in national form (2125551234; 02079460000 in GB), so each pattern matches
those forms. A caller who withholds the number arrives as "anonymous" (the From user
of RFC 3323 privacy), "unknown", "restricted", "private", "unavailable", empty, or
FreeSWITCH's placeholder 0000000000 (the caller ID number of a call that has none, as
the captures show for a call originated without one). A caller who sends a real number
with a "Privacy: id" header keeps that number in caller_id_number, so that case is the
dialplan's to check (``${privacy_hide_number}``), not this expression's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

import phonenumbers
from django.core.exceptions import ValidationError

from tenants.validators import normalize_e164

WILDCARD = "*"
ANONYMOUS_WORDS = ("anonymous", "unknown", "restricted", "private", "unavailable")
NO_NUMBER = "0000000000"
# Matches nothing, so a dialplan condition built from it can never block a call.
NOTHING = "^(?!)"


class Block(Protocol):
    pattern: str
    anonymous: bool
    direction: str


def _applies(block: Block, direction: str) -> bool:
    return block.direction in (direction, "both")


def _home(country: str | None) -> tuple[str, str]:
    """The account country's calling code and national (trunk) prefix."""
    if not country:
        return "", ""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None:
        return "", ""
    return str(metadata.country_code), metadata.national_prefix or ""


def _number_expression(pattern: str, country: str | None) -> str:
    """The forms of one E.164 number or prefix a caller ID may take (no anchors)."""
    prefix = pattern.endswith(WILDCARD)
    digits = pattern.strip("+" + WILDCARD)
    tail = r"\d*" if prefix else ""
    forms = [rf"\+?{re.escape(digits)}{tail}"]
    code, trunk = _home(country)
    national = digits[len(code):] if code and digits.startswith(code) else ""
    if national:
        # Where the trunk prefix equals the country code (NANP's 1) the first form has it.
        optional_trunk = f"(?:{re.escape(trunk)})?" if trunk and trunk != code else ""
        forms.append(f"{optional_trunk}{re.escape(national)}{tail}")
    return "|".join(forms)


def _anonymous_expression() -> str:
    return f"(?i:{'|'.join(ANONYMOUS_WORDS)})|{NO_NUMBER}|"


def _expression(block: Block, country: str | None) -> str:
    return _anonymous_expression() if block.anonymous else _number_expression(block.pattern, country)


def _specificity(block: Block) -> tuple[int, int]:
    if block.anonymous:
        return (2, 0)
    return (1 if block.pattern.endswith(WILDCARD) else 0, -len(block.pattern))


def blocked(blocks: Iterable[Block], caller_number: str, direction: str, *,
            country: str | None = None) -> Block | None:
    """The block that stops a call in ``direction`` ("incoming": ``caller_number`` is the
    caller's; "outgoing": the number dialed, in E.164) or None. The most specific block
    wins: a full number before a prefix, a longer prefix before a shorter one."""
    number = (caller_number or "").strip()
    for block in sorted((b for b in blocks if _applies(b, direction)), key=_specificity):
        if re.fullmatch(f"(?:{_expression(block, country)})", number):
            return block
    return None


def incoming_pattern(blocks: Iterable[Block], *, country: str | None = None) -> str:
    """One PCRE expression matching every caller ID number an incoming block stops;
    ``NOTHING`` when no block applies to incoming calls."""
    parts = [_expression(block, country)
             for block in sorted((b for b in blocks if _applies(b, "incoming")), key=_specificity)]
    if not parts:
        return NOTHING
    return f"^(?:{'|'.join(parts)})$"


def normalize_pattern(raw: str, country: str) -> str:
    """The stored form of what a person typed: E.164 for a number, ``+<digits>*`` for a
    prefix; national input is read as a number of ``country``."""
    value = re.sub(r"[\s().\-/]", "", raw or "")
    if not value:
        raise ValidationError("Enter a number, or a prefix ending in *.", code="required")
    if not value.endswith(WILDCARD):
        if not value.startswith("+"):
            try:
                parsed = phonenumbers.parse(value, country)
            except phonenumbers.NumberParseException as exc:
                raise ValidationError(f"“{raw}” is not a phone number.", code="invalid") from exc
            value = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return normalize_e164(value)
    digits = value[:-1]
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.isdigit():
        digits = _international_digits(digits, country)
    if not digits.isdigit() or not 1 <= len(digits) <= 14:
        raise ValidationError("A prefix is + and 1 to 14 digits, then * (e.g. +1900*).", code="invalid")
    if not any(int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for n in (1, 2, 3)):
        raise ValidationError("Start the prefix with a country code (e.g. +1900*).", code="invalid")
    return f"+{digits}{WILDCARD}"


def _international_digits(digits: str, country: str) -> str:
    """A prefix typed as a caller in ``country`` dials it, without the leading +."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None:
        return digits
    for idd in (metadata.preferred_international_prefix or "", metadata.international_prefix or ""):
        if idd.isdigit() and digits.startswith(idd):
            return digits[len(idd):]
    trunk = metadata.national_prefix or ""
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk):]
    return f"{metadata.country_code}{digits}"
