"""The demo's platform trunk (``manage.py seed_demo``), so outside calls in the demo,
911 included, produce a bridge instead of NO_ROUTE_DESTINATION.

Its one gateway is a placeholder: 127.0.0.1:5080, the carrier side a test FreeSWITCH
runs as a second SIP profile (context ``public``, no authentication;
/work/shared/freeswitch/README.md, "A carrier side for DID tests"). Nothing answers
there on a plain development machine, so calls fail at the carrier; replace the gateway
with a real carrier's (admin → Trunks) before any real call, and above all before a
real emergency call.
"""

from __future__ import annotations

from carriers.actions import do_create_trunk
from carriers.models import Trunk
from tenants.models import User

DEMO_TRUNK = "Demo test carrier (placeholder)"
DEMO_GATEWAY = {"server": "127.0.0.1", "port": 5080, "transport": "udp"}


def demo_platform_trunk(master_admin: User) -> Trunk:
    """The master's (platform) trunk every demo account calls out on: every number, and
    the emergency trunk. Idempotent: an existing demo trunk is left as it is."""
    master = master_admin.account
    existing = Trunk.objects.filter(account=master, name=DEMO_TRUNK).first()
    if existing is not None:
        return existing
    return do_create_trunk(master_admin, master, name=DEMO_TRUNK, emergency=True, rules=[],
                           gateways=[DEMO_GATEWAY])
