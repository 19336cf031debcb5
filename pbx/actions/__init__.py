"""Every write to a tenant's PBX data goes through these functions (one module per kind of
object). Each runs inside the tenant's schema, validates, leaves an audit event in the
public schema, and announces the change (pbx.signals) inside its transaction, so
FreeSWITCH-facing caches and queues act exactly when it commits."""

from pbx.actions.extensions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)

__all__ = [
    "do_add_device", "do_create_extension", "do_delete_extension", "do_remove_device",
    "do_update_device", "do_update_extension",
]
