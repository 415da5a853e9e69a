import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from fusionprime.events import publisher
from fusionprime.events.models import Event
from fusionprime.events.services import event_publish_retry_now, events_publish_pending
from settlements import services
from tests.factories import SettlementFactory
from tests.support.envelopes import parse_envelope

pytestmark = [pytest.mark.pubsub, pytest.mark.django_db(transaction=True)]


def test_events_reach_pubsub_with_envelope_attributes_and_ordering_key(pull, settings):
    # given a settlement with three events
    settlement = SettlementFactory()
    services.settlement_mark_funded(settlement_id=settlement.id, actor="test")
    services.settlement_mark_settled(settlement_id=settlement.id, actor="test")

    # when the publisher sweeps (the after-commit kicks may already have run eagerly)
    events_publish_pending()

    # then every event is on the topic once, in order, with its attributes, and marked published
    messages = [m for m in pull(3) if m.attributes["aggregate_id"] == settlement.id]
    assert [json.loads(m.data)["type"] for m in messages] == [
        "settlement.created",
        "settlement.funded",
        "settlement.settled",
    ]
    events = list(Event.objects.filter(aggregate_id=settlement.id).order_by("sequence"))
    for message, event in zip(messages, events, strict=True):
        assert message.ordering_key == settlement.id
        assert dict(message.attributes) == {
            "event_id": event.id,
            "event_type": event.type,
            "occurred_at": event.time,
            "aggregate_id": settlement.id,
        }
        parsed = parse_envelope(message.data)
        assert parsed.get_id() == event.id
        assert event.published_at is not None and event.message_id == message.message_id


def test_an_outage_delays_but_never_loses_events(pull, settings, monkeypatch):
    # given Pub/Sub is unreachable (an emulator address nothing listens on)
    good_host = publisher.os.environ["PUBSUB_EMULATOR_HOST"]
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
    settings.EVENT_PUBLISH_TIMEOUT_SECONDS = 2

    # when a settlement is created during the outage (its after-commit kick tries to publish)
    settlement = SettlementFactory()

    # then nothing is marked published; the event backs off with the error recorded
    event = Event.objects.get(aggregate_id=settlement.id)
    assert event.published_at is None and event.publish_attempts == 1
    assert event.next_attempt_at > timezone.now() and event.last_error
    # and it is not retried before its backoff is due
    assert events_publish_pending().published == 0

    # when Pub/Sub is back and the backoff has passed (an operator's "retry now" does the same)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", good_host)
    assert event_publish_retry_now(event_ids=[event.id]) == 1  # its after-commit kick publishes

    # then the event arrives exactly once
    event.refresh_from_db()
    assert event.published_at is not None
    ids = [m.attributes["event_id"] for m in pull(1)]
    assert ids.count(event.id) == 1


def test_later_events_wait_for_a_failed_earlier_one(pull, no_kick):
    # given a first event that failed and is backing off, and a second event after it
    settlement = SettlementFactory()
    first = Event.objects.get(aggregate_id=settlement.id)
    Event.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1), publish_attempts=3)
    services.settlement_cancel(settlement_id=settlement.id, actor="test")

    # when the publisher sweeps, the second waits: order beats latency
    events_publish_pending()
    second = Event.objects.get(aggregate_id=settlement.id, sequence=2)
    assert second.published_at is None

    # when an operator retries the first, both go out in order
    event_publish_retry_now(event_ids=[first.id])
    events_publish_pending()
    second.refresh_from_db()
    assert second.published_at is not None
    types = [json.loads(m.data)["type"] for m in pull(2) if m.attributes["aggregate_id"] == settlement.id]
    assert types == ["settlement.created", "settlement.cancelled"]


def test_two_publishers_at_once_never_publish_an_event_twice(pull, no_kick):
    # given many unpublished events across aggregates
    settlements = [SettlementFactory() for _ in range(60)]
    for settlement in settlements[::2]:
        services.settlement_mark_funded(settlement_id=settlement.id, actor="test")
    total = Event.objects.filter(published_at__isnull=True).count()
    assert total == 90

    # when two publishers sweep concurrently, each with its own database connection
    results, errors = [], []

    def sweep():
        try:
            results.append(events_publish_pending(batch_size=7))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then every event was published exactly once between them
    assert not errors
    assert sum(r.published for r in results) == total
    assert not Event.objects.filter(published_at__isnull=True).exists()
    counts = Counter(m.attributes["event_id"] for m in pull(total))
    assert len(counts) == total and set(counts.values()) == {1}


def test_publish_events_command_runs_one_sweep(pull, capsys, no_kick):
    SettlementFactory()
    call_command("publish_events", "--once")
    assert "published=1" in capsys.readouterr().out
    assert Event.objects.filter(published_at__isnull=False).count() == 1


def test_pubsub_bootstrap_is_idempotent(pubsub_project, capsys):
    call_command("pubsub_bootstrap")
    out = capsys.readouterr().out
    assert "exists  settlement.events.v1" in out and "exists  chain.events.v1" in out
