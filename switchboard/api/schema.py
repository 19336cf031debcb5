"""The OpenAPI document (drf-spectacular): how to authenticate, the ``Idempotency-Key``
header, and every error an operation can answer with its body, so a client (and
schemathesis in the test suite) knows each response's shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, serializers

from switchboard.api import idempotency


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    code = serializers.CharField(required=False, help_text="A stable name for the error, when it has one.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What it conflicts with.")
    code = serializers.ChoiceField(
        choices=["taken", "in_use", "conflict"],
        help_text="taken: the number or domain belongs to something else; in_use: routes still "
                  "send calls to the object (listed in used_by); conflict: a concurrent change.",
    )
    field = serializers.CharField(required=False, help_text="The request field at fault.")
    used_by = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="What still uses the object.")


# Paths below an account that are the account's own operations, not objects of it.
ACCOUNT_ACTIONS = frozenset({"children", "descendants", "tree", "suspend", "resume"})

FIELD_ERRORS = {
    "type": "object",
    "description": "Field name → its messages (``non_field_errors``: the request as a whole). "
                   "A nested field (a list of members) has its own messages inside.",
    "additionalProperties": {},
}
ERRORS_DOC = {
    "400": ("Invalid input: the messages per field.", FIELD_ERRORS),
    "401": ("No valid API key or session.", ErrorSerializer),
    "403": ("The role or key may not do this (read-only, not an admin).", ErrorSerializer),
    "404": ("Not found, or outside your accounts: the two are not told apart.", ErrorSerializer),
    "409": ("Conflicts with existing data.", ConflictSerializer),
    "422": ("The Idempotency-Key was used for a different request.", ErrorSerializer),
    "429": ("Too many requests with this key; retry after Retry-After seconds.", ErrorSerializer),
}


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        """The operation's own docstring, else its view class's own: never the generic
        base classes' (they describe our code, not the API)."""
        view_class = type(self.view)
        handler = view_class.__dict__.get(getattr(self.view, "action", None) or self.method.lower())
        if handler is not None and handler.__doc__:
            return get_doc(handler)
        return get_doc(view_class) if view_class.__dict__.get("__doc__") else ""

    def get_tags(self) -> list[str]:
        """One group per object: the path's segment after the account (``extensions``,
        ``ring-groups``), else ``accounts``."""
        parts = [part for part in self.path.split("/") if part]
        if "{account_id}" in parts:
            rest = parts[parts.index("{account_id}") + 1:]
            if rest and not rest[0].startswith("{") and rest[0] not in ACCOUNT_ACTIONS:
                return [rest[0]]
        return ["accounts"]

    def get_override_parameters(self) -> list[Any]:
        found = list(super().get_override_parameters())
        if self.method == "POST":
            found.append(OpenApiParameter(
                idempotency.HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                description="Any unique string (a UUID) per intended write: a retry with the same "
                            "key and request gets the first answer instead of a second object "
                            f"(kept {int(idempotency.IDEMPOTENCY_TTL.total_seconds() // 3600)} h).",
            ))
        return found

    def _is_public(self) -> bool:
        return any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    def _error_codes(self) -> list[str]:
        if self._is_public():
            return []
        codes = ["401", "429"]
        has_path_parameters = "{" in self.path
        writes = self.method not in permissions.SAFE_METHODS
        if writes or self._is_list_view():
            codes.append("400")
        if writes:
            codes += ["403", "409"]
        if has_path_parameters or self._is_list_view():
            # A list's page beyond the last is a 404 too.
            codes.append("404")
        if self.method == "POST":
            codes.append("422")
        return sorted(set(codes))

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            description, body = ERRORS_DOC[code]
            response = self._get_response_for_code(body, code)
            response["description"] = description
            if code == "429":
                response["headers"] = {"Retry-After": {
                    "schema": {"type": "integer"}, "description": "Seconds to wait."}}
            if code == "401":
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            responses[code] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "switchboard.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (admin → API keys): ``Authorization: Bearer sb_…``. It acts "
                           "as its user, within the user's account and below, with the user's "
                           "role (or read-only when the key is).",
        }


class HostSessionScheme(OpenApiAuthenticationExtension):
    target_class = "switchboard.api.authentication.HostSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The portal's or admin's session, valid on the host it was opened on "
                           "only; writes need the X-CSRFToken header.",
        }


def blank_or_pattern(result: dict, generator, request, public) -> dict:
    """drf-spectacular writes a blank-allowed string with a pattern as ``oneOf: [the
    pattern, maxLength 0]``; when the pattern accepts "" too, "" matches both and breaks
    ``oneOf``. Either branch is fine, so say ``anyOf``."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if isinstance(branches, list) and {"type": "string", "maxLength": 0} in branches:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
