from celery import shared_task

from fusionprime.api.services import idempotency_records_purge


@shared_task(name="api.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys_task() -> int:
    return idempotency_records_purge()
