"""What the API answers when something is refused, in one place.

- The actions' ValidationError, keyed by field → 400 ``{field: [messages]}`` (errors of
  the request as a whole under ``non_field_errors``), exactly the admin form's messages.
- A conflict with existing data (a number or domain already taken, an object still used
  by routes, a concurrent write of the same unique value) → 409 ``{detail, code, field?,
  used_by?}``.
- PermissionDenied from an action (the role may not) → 403 ``{detail}``.
- Anything not found, or outside the caller's reach (tenants.scoping.NotInSubtree is a
  DoesNotExist) → 404 ``{"detail": "Not found."}``: the same body either way, so an id of
  another tenant cannot be told from one that does not exist.
- A value the database cannot hold → 400, never 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NOT_FOUND = {"detail": "Not found."}
# ValidationError codes that mean "this collides with something that exists", not "this
# value is malformed".
CONFLICT_CODES = frozenset({"taken", "in_use"})
NON_FIELD_KEY = "non_field_errors"


def _conflict(error: DjangoValidationError, field: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": error.messages[0], "code": error.code}
    if field:
        body["field"] = field
    used_by = (error.params or {}).get("used_by") if isinstance(error.params, dict) else None
    if used_by:
        body["used_by"] = list(used_by)
    return body


def validation_response(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                if error.code in CONFLICT_CODES:
                    name = None if field == NON_FIELD_ERRORS else field
                    return Response(_conflict(error, name), status=status.HTTP_409_CONFLICT)
        body = {NON_FIELD_KEY if field == NON_FIELD_ERRORS else field: messages
                for field, messages in exc.message_dict.items()}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    for error in exc.error_list:
        if error.code in CONFLICT_CODES:
            return Response(_conflict(error, None), status=status.HTTP_409_CONFLICT)
    return Response({NON_FIELD_KEY: exc.messages}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return validation_response(exc)
    if isinstance(exc, ObjectDoesNotExist | Http404 | exceptions.NotFound):
        return Response(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, IntegrityError):
        # Two writers raced for one unique value; the loser's transaction is rolled back.
        return Response({"detail": "This conflicts with a change made at the same time; "
                                   "read the object again and retry.", "code": "conflict"},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DataError):
        return Response({NON_FIELD_KEY: ["A value is too large or malformed for its field."]},
                        status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
