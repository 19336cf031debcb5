from django.apps import AppConfig


class PbxConfig(AppConfig):
    name = "pbx"
    verbose_name = "PBX"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from common.signals import voicemail_left
        from pbx.voicemail_email import on_voicemail_left

        voicemail_left.connect(on_voicemail_left, dispatch_uid="pbx.voicemail_email")
