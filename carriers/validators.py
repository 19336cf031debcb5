"""Validation for what a trunk holds: regular expressions written by admins are compiled
at save time, so a typo is a field error and never a failed call."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from tenants.validators import validate_each

MAX_PATTERN_LENGTH = 200

validate_dial_prefix = RegexValidator(
    r"^\+?[0-9*#]{0,10}$", "A prefix is up to 10 digits, * or #, optionally after a +.",
    code="invalid_prefix",
)

validate_caller_id_number = RegexValidator(
    r"^\+?\d{3,15}$", "A caller ID is 3 to 15 digits, optionally after a +.", code="invalid_caller_id",
)


# sofia refuses a gateway ``ping`` below 5 s ("ERROR: invalid ping!", sofia.c) and then
# never pings it.
MIN_PING_SECONDS = 5


def validate_ping_interval(value: int) -> None:
    if value and value < MIN_PING_SECONDS:
        raise ValidationError(
            "Ping at least every %(min)d seconds, or 0 for no pings.", code="ping_too_often",
            params={"min": MIN_PING_SECONDS},
        )


def validate_pattern(value: str) -> None:
    if len(value) > MAX_PATTERN_LENGTH:
        raise ValidationError(
            "A pattern is at most %(max)d characters.", code="too_long",
            params={"max": MAX_PATTERN_LENGTH},
        )
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValidationError(
            "“%(value)s” is not a valid regular expression: %(error)s.", code="invalid_regex",
            params={"value": value, "error": exc.msg},
        ) from exc
    if compiled.groups > 9:
        raise ValidationError("Use at most 9 groups in a pattern.", code="too_many_groups")


def validate_patterns(values: list[str]) -> None:
    validate_each(values, validate_pattern, label="Rule", skip_blank=False)
