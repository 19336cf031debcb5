"""The Celery app. Without ``CELERY_BROKER_URL`` it uses kombu's filesystem transport:
messages are files under ``.data/celery``, so a fresh machine needs no broker server."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Commands queued for FreeSWITCH nodes are delivered right after commit; this sweep
# retries what a node or the broker missed (fsnodes.delivery).
app.conf.beat_schedule = {
    "fsnodes-deliver-pending": {"task": "fsnodes.deliver_pending", "schedule": 15.0},
    # Voicemail older than its box's keep_days: one vm_list per box and node per run, and
    # keep_days counts days, so four runs a day are precise enough.
    "fsnodes-voicemail-retention": {"task": "fsnodes.voicemail_retention", "schedule": 6 * 3600.0},
    # The voicemail message mirror follows the nodes' events while a node manager runs;
    # this catches what was left while none did (one vm_list per box and node).
    "fsnodes-voicemail-reconcile": {"task": "fsnodes.voicemail_reconcile", "schedule": 900.0},
    # Expired SIP authentication blocks end (and their cached refusals with them) even
    # where no call-control process runs the node manager's own sweep.
    "fsnodes-end-auth-blocks": {"task": "fsnodes.end_auth_blocks", "schedule": 30.0},
    # Call records: next months' partitions exist long before they are needed (a missed
    # run only sends rows to the default partition); retention counts days.
    "cdr-ensure-partitions": {"task": "cdr.ensure_partitions", "schedule": 24 * 3600.0},
    "cdr-retention": {"task": "cdr.retention", "schedule": 6 * 3600.0},
    # Webhook deliveries whose queued try was lost (broker away, worker died mid-try).
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 30.0},
    # The delivery log's retention (WEBHOOKS_DELIVERY_RETENTION_DAYS), in batches.
    "webhooks-purge-deliveries": {"task": "webhooks.purge_deliveries", "schedule": 3600.0},
}
