from django.apps import AppConfig


class FsconfConfig(AppConfig):
    name = "fsconf"
    verbose_name = "FreeSWITCH configuration"
