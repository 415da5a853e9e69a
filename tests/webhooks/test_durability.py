"""Kill the worker mid-delivery and lose Redis: every event still reaches the receiver.

Real processes: our own redis-server on a free port (never the shared one on 6379) and Celery
workers with embedded beat (the 2 s sweep), against this test's PostgreSQL database.
"""

import os
import shutil
import signal
import time

import pytest
from django.db import connection
from standardwebhooks import Webhook

from fusionprime.events.models import Event
from tests.factories import SettlementFactory
from tests.support.processes import free_port, stop
from tests.webhooks.processes import Redis, start_worker, worker_env
from tests.webhooks.receiver import hang
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary is not installed")
def test_sigkill_worker_and_redis_restart_lose_nothing(make_endpoint, receiver, settings, tmp_path):
    # given an endpoint whose receiver takes a moment per request, and 30 events waiting
    settings.WEBHOOKS_KICK_ON_COMMIT = False  # the workers' beat sweep drives everything here
    receiver.default = hang(0.8)
    endpoint = make_endpoint()
    first = [SettlementFactory() for _ in range(30)]
    redis = Redis(free_port()).start()
    env = worker_env(
        database=connection.settings_dict,
        broker_url=redis.url,
        WEBHOOKS_TOTAL_TIMEOUT_SECONDS="3",
        WEBHOOKS_LEASE_SECONDS="4",
        WEBHOOKS_SWEEP_SECONDS="1",
        WEBHOOKS_SWEEP_TIME_BUDGET_SECONDS="5",
    )
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        # when the worker is SIGKILLed while requests are in flight
        _wait(lambda: len(receiver.received) >= 10, timeout=60, what=f"first deliveries ({log})")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        in_flight_at_kill = WebhookDelivery.objects.filter(lease_expires_at__isnull=False).count()
        # and Redis restarts empty, while more events are written
        redis.stop()
        redis.start()
        later = [SettlementFactory() for _ in range(10)]
        receiver.default = hang(0.05)
        worker = start_worker(env, log)

        # then every delivery succeeds
        _wait(
            lambda: not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists(),
            timeout=90,
            what=f"all deliveries to succeed ({log})",
        )
    finally:
        stop(worker)
        redis.stop()

    assert in_flight_at_kill > 0, "the kill did not land mid-delivery"
    event_ids = set(Event.objects.filter(aggregate_id__in=[s.id for s in first + later]).values_list("id", flat=True))
    assert len(event_ids) == 40
    received_ids = [r.webhook_id for r in receiver.received]
    # every event reached the receiver; a repeat is the same event (same webhook-id, same bytes)
    assert set(received_ids) == event_ids
    bodies = {}
    for request in receiver.received:
        assert bodies.setdefault(request.webhook_id, request.body) == request.body
        Webhook(endpoint.secret).verify(request.body, request.headers)
    # the attempts cut off by the kill are on record
    assert WebhookAttempt.objects.filter(error_class="lease_expired").count() >= 1
