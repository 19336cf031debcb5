"""The xml_curl benchmark's "before": directory lookups read the tenant's own schema
instead of the public directory index (fsconf.sections.directory). Benchmarks only."""

from switchboard.settings import *  # noqa: F403

FSCONF_DIRECTORY_INDEX = False
