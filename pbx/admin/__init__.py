"""The PBX's pages in the master's and resellers' admin (tenants.admin.site): phone numbers,
whose writes and routes are the PBX's (pbx.numbers, pbx.destinations). Django's admin
autodiscovery imports this package, which registers them."""

from pbx.admin import numbers  # noqa: F401  (registers the model admin)
