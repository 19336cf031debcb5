from tenants.admin import accounts, apikeys, audit, lockouts, users  # noqa: F401  (registers the model admins)
from tenants.admin.site import admin_site

__all__ = ["admin_site"]
