from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from common.signals import call_event, voicemail_left
        from webhooks.receivers import on_call_event, on_voicemail_left

        call_event.connect(on_call_event, dispatch_uid="webhooks.call_event")
        voicemail_left.connect(on_voicemail_left, dispatch_uid="webhooks.voicemail_left")
