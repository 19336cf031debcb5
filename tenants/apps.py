from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect the receivers: the session's tenant binding, the sign-in throttle's.
        from tenants import sessions, throttling  # noqa: F401
