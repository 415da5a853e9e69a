import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from fusionprime.events.models import Event
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_user("ops", password="pw-long-enough-1", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_failing_events_are_listed_and_can_be_retried(staff_client, settings, monkeypatch):
    from fusionprime.events import services

    kicks = []
    monkeypatch.setattr(services, "_kick_publisher", lambda: kicks.append(1))
    settlement = SettlementFactory()
    event = Event.objects.get(aggregate_id=settlement.id)
    later = timezone.now() + timezone.timedelta(hours=1)
    Event.objects.filter(pk=event.pk).update(
        publish_attempts=settings.EVENT_PUBLISH_STUCK_AFTER, next_attempt_at=later, last_error="Unavailable: boom"
    )

    listing = staff_client.get("/admin/events/event/?publish_state=stuck")
    assert event.id in listing.content.decode()
    assert "failing" in listing.content.decode()

    response = staff_client.post(
        "/admin/events/event/", {"action": "retry_publish", "_selected_action": [event.id]}, follow=True
    )
    assert "1 event(s) queued for publishing." in response.content.decode()
    event.refresh_from_db()
    assert event.next_attempt_at is None


def test_the_event_log_cannot_be_edited_in_admin(staff_client):
    settlement = SettlementFactory()
    event = Event.objects.get(aggregate_id=settlement.id)
    page = staff_client.get(f"/admin/events/event/{event.id}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b"specversion" in page.content
