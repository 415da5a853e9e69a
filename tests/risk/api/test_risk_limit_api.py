import json
import threading
import uuid

import pytest
from django.db import connection

from fusionprime.events.models import Event
from risk import services as risk_services
from risk.errors import RiskLimitExceeded
from risk.selectors import counterparty_open_exposures
from risk.services import exposure_limit_set
from settlements.models import Settlement
from settlements.services import settlement_create


def create(api, **overrides):
    body = {
        "reference": f"INV-{uuid.uuid4().hex[:8]}",
        "payer_reference": "acme",
        "payee_reference": "globex",
        "amount": "100.00",
        "asset": "USD",
        **overrides,
    }
    return api.post(
        "/v1/settlements",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


@pytest.mark.django_db
def test_a_create_over_the_limit_is_a_422_problem_stating_limit_and_would_be_exposure(api):
    # given acme may have 1,000.00 USD open and already has 900.00
    exposure_limit_set(counterparty="acme", asset="USD", amount="1000.00", actor="user:alice")
    assert create(api, amount="900.00").status_code == 201
    events_before = Event.objects.count()

    # when one more settlement of 100.01 is submitted
    response = create(api, reference="INV-TOO-MUCH", amount="100.01")

    # then it is refused as a problem that says why, and nothing was written
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "risk_limit_exceeded"
    assert body["param"] == "amount"
    assert (body["counterparty"], body["asset"], body["limit"], body["would_be_exposure"]) == (
        "acme",
        "USD",
        "1000.00",
        "1000.01",
    )
    assert body["current_exposure"] == "900.00"
    assert "limit of 1000.00" in body["detail"] and "to 1000.01" in body["detail"]
    assert not Settlement.objects.filter(reference="INV-TOO-MUCH").exists()
    assert Event.objects.count() == events_before


def _in_thread(target, results, index):
    try:
        results[index] = target()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        results[index] = exc
    finally:
        connection.close()  # each thread had its own connection


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_cannot_jointly_exceed_a_limit(monkeypatch):
    # given a 1,000.00 limit and two 600.00 settlements submitted at the same moment
    exposure_limit_set(counterparty="acme", asset="USD", amount="1000.00", actor="user:alice")
    # Both transactions are held right after reading the exposure, so without the lock each would
    # see only its own 600.00 and both would commit. With it, the second waits for the first.
    both_read = threading.Barrier(2, timeout=3)

    def read_then_hold(**kwargs):
        exposures = counterparty_open_exposures(**kwargs)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass
        return exposures

    monkeypatch.setattr(risk_services, "counterparty_open_exposures", read_then_hold)

    def submit(n):
        return lambda: settlement_create(
            reference=f"RACE-{n}",
            payer_reference="acme",
            payee_reference=f"p{n}",
            amount="600.00",
            asset="USD",
            actor="test:race",
        )

    results = [None, None]
    threads = [threading.Thread(target=_in_thread, args=(submit(n), results, n)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    # then exactly one was accepted, the other refused with the would-be exposure of both
    refused = [r for r in results if isinstance(r, RiskLimitExceeded)]
    accepted = [r for r in results if isinstance(r, Settlement)]
    assert (len(accepted), len(refused)) == (1, 1), results
    assert refused[0].extra["would_be_exposure"] == "1200.00"
    assert Settlement.objects.filter(payer_reference="acme").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_concurrent_creates_fills_the_limit_exactly():
    exposure_limit_set(counterparty="acme", asset="USD", amount="1000.00", actor="user:alice")
    start = threading.Barrier(6, timeout=10)

    def submit(n):
        def run():
            start.wait()
            return settlement_create(
                reference=f"BURST-{n}",
                payer_reference="acme",
                payee_reference=f"p{n}",
                amount="300.00",
                asset="USD",
                actor="test:race",
            )

        return run

    results = [None] * 6
    threads = [threading.Thread(target=_in_thread, args=(submit(n), results, n)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(isinstance(r, Settlement) for r in results) == 3, results
    assert sum(isinstance(r, RiskLimitExceeded) for r in results) == 3, results
    assert counterparty_open_exposures(asset="USD", counterparties=["acme"])["acme"] == 900
