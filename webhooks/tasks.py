"""Triggers only: the schedule lives in the database, so a lost task loses nothing."""

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.deliver_due", ignore_result=True)
def deliver_due_task() -> dict:
    result = services.deliveries_process_due()
    return {"claimed": result.claimed, "succeeded": result.succeeded, "failed": result.failed}


@shared_task(name="webhooks.check_endpoint_health", ignore_result=True)
def check_endpoint_health_task() -> dict:
    return services.endpoints_check_health()


@shared_task(name="webhooks.purge_payloads", ignore_result=True)
def purge_payloads_task() -> int:
    return services.deliveries_purge_payloads()
