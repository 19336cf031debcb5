"""The tenants app's Celery tasks, gathered here for Celery's autodiscovery. Each is defined
beside the work it runs (tenants.provisioning.refill_spare_schemas), because the module
that queues it is that same module: nothing in the app imports this one, so it closes no
import cycle."""

from tenants.provisioning import refill_spare_schemas

__all__ = ["refill_spare_schemas"]
