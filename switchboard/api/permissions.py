"""The checkpoint every API view passes: somebody is asking (an identity, never a bare
user), and a read-only identity writes nothing."""

from __future__ import annotations

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from tenants.identity import Identity
from tenants.models import Role

READ_ONLY_MESSAGE = "This API key or user is read-only."
END_USER_MESSAGE = "This login is an employee's own (My phone): it has no access to the API."


def identity_of(request: Request) -> Identity:
    identity = request.auth
    if not isinstance(identity, Identity):
        raise exceptions.NotAuthenticated()
    return identity


class IdentityCheckpoint(permissions.BasePermission):
    message = READ_ONLY_MESSAGE

    def has_permission(self, request: Request, view) -> bool:
        identity = identity_of(request)
        if identity.role == Role.END_USER:
            # An employee's own login (My phone) has no admin rights: not even reading.
            raise exceptions.PermissionDenied(END_USER_MESSAGE)
        if request.method in permissions.SAFE_METHODS or not identity.read_only:
            return True
        # A write to one object is refused once the object is found (has_object_permission),
        # so an id that is not there answers 404 to a read-only caller too.
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        return lookup is not None and lookup in view.kwargs

    def has_object_permission(self, request: Request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or not identity_of(request).read_only
