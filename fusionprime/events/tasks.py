from celery import shared_task
from django.core.cache import cache

from fusionprime.events.services import KICK_PENDING_KEY, events_publish_pending


@shared_task(name="events.publish_pending", ignore_result=True)
def publish_events_task() -> dict:
    cache.delete(KICK_PENDING_KEY)  # from now on, a new commit needs a new run
    result = events_publish_pending()
    return {"published": result.published, "failed": result.failed}
