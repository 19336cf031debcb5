"""``manage.py run_callcontrol [--listen host:port] [--no-manager]``: the outbound
event-socket server, and beside it on the same hub the inbound connection manager
(``fsnodes.manager``: one event-socket connection per FreeSWITCH node, conference events,
interactive commands, and the calls' start, answer and end for webhooks:
``fsnodes.call_events``).

No monkeypatching: the server uses gevent sockets directly, and the few database queries a
call makes (tenant lookup, the app's own reads) block the hub briefly on the one shared
connection, which is what ``CallSession.tenant_schema()`` relies on. Since a query blocks
every call and the node manager, every database wait of the process is bounded by
``CALLCONTROL_DATABASE_WAIT`` (common.dbhealth), the manager's too.
"""

from __future__ import annotations

import logging
import signal

import gevent
from django.core.management.base import BaseCommand

from callcontrol import conf
from callcontrol.server import CallControlServer
from common.dbhealth import set_default_wait_limit
from esl.addresses import parse_address
from fsnodes.call_events import CallEvents
from fsnodes.manager import NodeManager


class Command(BaseCommand):
    help = "Run the call-control server FreeSWITCH's socket application connects to."

    def add_arguments(self, parser):
        parser.add_argument("--listen", help="host:port (default: CALLCONTROL_LISTEN or 127.0.0.1:8084)")
        parser.add_argument("--max-calls", type=int, default=None)
        parser.add_argument("--no-manager", action="store_true",
                            help="do not connect to the FreeSWITCH nodes' inbound event sockets")

    def handle(self, *args, listen=None, max_calls=None, no_manager=False, **options):
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        set_default_wait_limit(conf.setting("CALLCONTROL_DATABASE_WAIT", 1.0))
        address = parse_address(listen, "--listen") if listen else conf.listen_address()
        kwargs = {"max_calls": max_calls} if max_calls else {}
        server = CallControlServer(address, **kwargs)
        server.start()
        self.stdout.write(f"call control listening on {server.address[0]}:{server.address[1]}")
        manager = None
        call_events = None
        if not no_manager:
            manager = NodeManager(guard_auth=True, voicemail_messages=True).start()
            # Calls starting, answered and ending (webhooks): sent from a queue, never
            # from the connection's reader greenlet (fsnodes.call_events).
            call_events = CallEvents().start()
            manager.add_listener(call_events.on_event)
            self.stdout.write(f"connecting to {len(manager.connections)} FreeSWITCH node(s)")

        def shutdown() -> None:
            if manager is not None:
                manager.stop()
            if call_events is not None:
                call_events.stop()
            server.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, shutdown)
        server.serve_forever()
