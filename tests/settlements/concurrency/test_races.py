"""Money paths under real concurrency: threads with their own PostgreSQL connections."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from fusionprime.errors import IllegalTransition
from fusionprime.events.models import Event
from settlements import services
from settlements.models import Settlement
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"reference": "INV-RACE", "payer_reference": "a", "payee_reference": "b", "amount": "10.00", "asset": "USD"}


def run_at_once(n, fn):
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait(timeout=30)
        try:
            return fn(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def test_fifty_concurrent_identical_requests_create_exactly_one_settlement(api_key):
    def send(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
        response = client.post(
            "/v1/settlements", data=json.dumps(BODY), content_type="application/json", HTTP_IDEMPOTENCY_KEY="same-key"
        )
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_at_once(50, send)

    assert Settlement.objects.count() == 1
    assert Event.objects.filter(type="settlement.created").count() == 1
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {201, 409}
    created = [body for status, body, replayed in results if status == 201]
    assert len({body["id"] for body in created}) == 1
    # exactly one request did the work; the others were told to retry (409) or got the replay
    assert sum(1 for status, _, replayed in results if status == 201 and replayed is None) == 1
    assert all(body["code"] == "idempotency_key_in_use" for status, body, _ in results if status == 409)


def test_concurrent_duplicate_references_with_different_keys_create_one(api_key):
    def send(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
        return client.post(
            "/v1/settlements", data=json.dumps(BODY), content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"key-{i}"
        ).status_code

    statuses = run_at_once(10, send)
    assert sorted(statuses) == [201] + [409] * 9
    assert Settlement.objects.count() == 1


def test_concurrent_transitions_keep_sequences_gap_free():
    settlements = [SettlementFactory() for _ in range(5)]
    moves = [services.settlement_mark_funded, services.settlement_cancel, services.settlement_fail]

    def transition(i):
        settlement = settlements[i % len(settlements)]
        try:
            moves[i % len(moves)](settlement_id=settlement.id, actor=f"worker:{i}")
            return "ok"
        except IllegalTransition:
            return "illegal"

    outcomes = run_at_once(30, transition)

    assert "ok" in outcomes
    for settlement in settlements:
        sequences = list(
            Event.objects.filter(aggregate_id=settlement.id).order_by("sequence").values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, len(sequences) + 1))
        settlement.refresh_from_db()
        last = Event.objects.filter(aggregate_id=settlement.id).order_by("-sequence").first()
        assert last.data["status"] == settlement.status
    # every successful transition wrote exactly one event
    assert Event.objects.exclude(type="settlement.created").count() == outcomes.count("ok")
