from django.apps import AppConfig


class FsconfConfig(AppConfig):
    name = "fsconf"
    verbose_name = "FreeSWITCH configuration"

    def ready(self) -> None:
        from fsconf import checks, receivers  # noqa: F401  (system checks, cache invalidation)
