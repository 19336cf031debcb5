"""Production settings plus the bare DRF view of bench.api_urls on the provider host (for
bench.api_latency only)."""

from switchboard.settings import *  # noqa: F403

PUBLIC_SCHEMA_URLCONF = "bench.api_urls"
