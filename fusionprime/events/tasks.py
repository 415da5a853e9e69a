from celery import shared_task

from fusionprime.events.services import events_publish_pending


@shared_task(name="events.publish_pending", ignore_result=True)
def publish_events_task() -> dict:
    result = events_publish_pending()
    return {"published": result.published, "failed": result.failed}
