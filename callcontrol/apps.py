from django.apps import AppConfig


class CallControlConfig(AppConfig):
    name = "callcontrol"
    verbose_name = "Call control"
