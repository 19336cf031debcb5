from django.apps import AppConfig


class PbxConfig(AppConfig):
    name = "pbx"
    verbose_name = "PBX"
    default_auto_field = "django.db.models.BigAutoField"
