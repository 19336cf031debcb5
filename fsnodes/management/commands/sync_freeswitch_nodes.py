from django.core.management.base import BaseCommand

from fsnodes.nodes import sync_configured_nodes


class Command(BaseCommand):
    help = "Make the FreeSWITCH node table match the FREESWITCH_NODES setting."

    def handle(self, *args, **options):
        nodes = sync_configured_nodes()
        for node in nodes:
            self.stdout.write(f"{node.name}: {node.host}:{node.esl_port}")
        self.stdout.write(f"{len(nodes)} node(s) from FREESWITCH_NODES")
