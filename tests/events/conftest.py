import uuid

import pytest
from django.core.management import call_command
from google.api_core import retry as retries

FAST = dict(retry=retries.Retry(deadline=10), timeout=10)


@pytest.fixture
def pubsub_project(settings, pubsub_emulator):
    """A fresh emulator project per test, bootstrapped by the real management command."""
    settings.GCP_PROJECT_ID = f"fp-test-{uuid.uuid4().hex[:8]}"
    call_command("pubsub_bootstrap")
    return settings.GCP_PROJECT_ID


@pytest.fixture
def pull(pubsub_project, settings):
    """Pulls everything delivered to a throwaway subscription on the settlement topic."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(pubsub_project, f"test-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        request={
            "name": subscription,
            "topic": f"projects/{pubsub_project}/topics/{settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS}",
            "enable_message_ordering": True,
        },
        **FAST,
    )

    def _pull(expected: int, *, rounds: int = 20) -> list:
        messages = []
        for _ in range(rounds):
            if len(messages) >= expected:
                break
            response = subscriber.pull(subscription=subscription, max_messages=1000, timeout=5)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
                )
                messages.extend(m.message for m in response.received_messages)
        return messages

    yield _pull
    subscriber.close()


@pytest.fixture
def no_kick(monkeypatch):
    """Leaves publishing to explicit sweeps, as when no worker is running."""
    from fusionprime.events import services

    monkeypatch.setattr(services, "_kick_publisher", lambda: None)
