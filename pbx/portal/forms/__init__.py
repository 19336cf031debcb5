"""The portal's forms, one module per object (conventions.md: one name everywhere)."""

from pbx.portal.forms.signin import PortalAuthenticationForm

__all__ = ["PortalAuthenticationForm"]
