"""django-axes, installed under a name provider staff understand in the admin's menu.

Its own module: a second AppConfig in tenants/apps.py would stop Django from picking
TenantsConfig as the tenants app's default (and its ready() would never run)."""

from axes.apps import AppConfig as AxesConfig


class SignInThrottlingConfig(AxesConfig):
    verbose_name = "Sign-in throttling"
