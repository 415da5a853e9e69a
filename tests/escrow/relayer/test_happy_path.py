import pytest

from escrow.models import ChainEvent, Escrow
from escrow.refs import settlement_id_from_ref
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.escrow.conftest import relay

ONE_ETH = 10**18


def test_escrow_settlement_is_funded_then_settled_from_chain_events_in_order(api, chain, driver):
    # given a settlement on the escrow rail, created through the API
    response = api.post(
        "/v1/settlements",
        {
            "reference": "INV-ESCROW-1",
            "payer_reference": "acme",
            "payee_reference": "globex",
            "amount": "1.5",
            "asset": "ETH",
            "rail": "escrow",
            "chain_id": 31337,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-escrow-1",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ref = body["settlement_ref"]
    assert settlement_id_from_ref(ref) == body["id"]
    payer, payee, a1, a2, a3 = driver.accounts[1:6]

    # when the payer creates and funds the escrow with a one-hour timelock and 2-of-3 approvals
    now = driver.now()
    escrow, _ = driver.create_escrow(
        payer=payer,
        amount=3 * ONE_ETH // 2,
        payee=payee,
        settlement_ref=ref,
        approvers=[a1, a2, a3],
        threshold=2,
        release_time=now + 3600,
        deadline=now + 86400,
    )
    driver.mine(2)
    relay(chain)
    settlement = Settlement.objects.get(pk=body["id"])
    assert settlement.status == "funded"

    # and the approvers approve, time passes the timelock, and the payee releases
    driver.approve(escrow, a1)
    driver.approve(escrow, a3)
    with pytest.raises(Exception, match="failed"):
        driver.receipt(driver.release(escrow, payee))
    driver.increase_time(3601)
    driver.receipt(driver.release(escrow, payee))
    relay(chain)
    assert Settlement.objects.get(pk=body["id"]).status == "funded"  # not yet confirmed (depth 2)
    driver.mine(2)
    result = relay(chain)

    # then the settlement is settled, with its events in order
    assert result.status == "ok", result.error
    settlement.refresh_from_db()
    assert settlement.status == "settled"
    types = list(Event.objects.filter(aggregate_id=settlement.id).order_by("sequence").values_list("type", flat=True))
    assert types == ["settlement.created", "settlement.funded", "settlement.settled"]
    settled = Event.objects.get(aggregate_id=settlement.id, type="settlement.settled")
    assert settled.data["escrow"]["address"] == escrow
    assert settled.data["escrow"]["event"] == "Released"

    row = Escrow.objects.get(address=escrow)
    assert (row.state, row.approvals, row.settlement_id, row.last_seq) == ("released", 2, settlement.id, 4)
    chain_types = list(
        Event.objects.filter(aggregate_type="escrow", aggregate_id=row.id)
        .order_by("sequence")
        .values_list("type", flat=True)
    )
    assert chain_types == [
        "escrow.escrow_created",
        "escrow.deposited",
        "escrow.approved",
        "escrow.approved",
        "escrow.released",
    ]
    released = Event.objects.get(aggregate_id=row.id, type="escrow.released")
    assert released.topic == "chain.events.v1"
    assert released.data["escrow_event_number"] == 4
    assert released.data["args"]["amount"] == str(3 * ONE_ETH // 2)
    assert released.data["args"]["paid"] is True
    assert ChainEvent.objects.filter(escrow=row).count() == 5
    assert released.to_envelope()["subject"] == f"escrow/{row.id}"


def test_each_tick_logs_its_lag_for_the_slo(chain, driver, caplog):
    # the relayer-lag SLO in Cloud Monitoring reads lag_seconds from this line
    driver.mine(3)
    with caplog.at_level("INFO", logger="escrow.relayer.runner"):
        result = relay(chain)
    [record] = [r for r in caplog.records if r.getMessage() == "relayer.tick"]
    assert record.chain == chain.name and record.head == result.head
    assert record.lag_blocks == result.head - record.checkpoint >= 0
    assert 0 <= record.lag_seconds < 3600
