from celery import shared_task

from tenants.provisioning import refill_spares


@shared_task(ignore_result=True)
def refill_spare_schemas() -> int:
    """Top up the pool of ready-made tenant schemas after an account took one."""
    return refill_spares()
