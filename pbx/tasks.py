"""The PBX app's Celery tasks, gathered here for Celery's autodiscovery. Each is defined
beside the work it runs (pbx.media.convert_media), because the module that queues it is
that same module: nothing in the app imports this one, so it closes no import cycle."""

from pbx.bulk import run_job
from pbx.media import convert_media

__all__ = ["convert_media", "run_job"]
