"""What the carrier model announces; FreeSWITCH-facing code listens (see pbx.signals)."""

from django.dispatch import Signal

# Gateways were added, changed or removed. Sent inside the write's transaction with:
# stale (list[str]: FreeSWITCH names of gateways removed or changed, which FreeSWITCH must
# drop before it re-reads the profile).
gateways_changed = Signal()
