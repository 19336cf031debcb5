from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "carriers"
    verbose_name = "Carriers"
    default_auto_field = "django.db.models.BigAutoField"
