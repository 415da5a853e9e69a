import pytest
from django.db import transaction

from fusionprime.events.models import Event
from fusionprime.events.services import event_record
from tests.factories import SettlementFactory
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import counterparty_matches, event_type_matches, webhook_endpoint_pause

pytestmark = pytest.mark.django_db


def _escrow_event(data: dict, type_: str = "escrow.funded") -> Event:
    with transaction.atomic():
        return event_record(
            aggregate_type="escrow", aggregate_id="esc_1", type=type_, data=data, actor="test", topic="chain.events.v1"
        )


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "settlement.created", True),
        (["settlement.created"], "settlement.created", True),
        (["settlement.created"], "settlement.funded", False),
        (["escrow.*"], "escrow.funded", True),
        (["escrow.*"], "escrow.deposit.confirmed", True),
        (["escrow.*"], "settlement.created", False),
        (["escrow.*"], "escrowx.funded", False),
        (["settlement.funded", "escrow.*"], "settlement.funded", True),
    ],
)
def test_event_type_patterns(patterns, event_type, expected):
    assert event_type_matches(patterns, event_type) is expected


def test_counterparty_rule_reads_party_fields_and_a_nested_settlement():
    assert counterparty_matches("", {"anything": 1})
    assert counterparty_matches("acme", {"payer_reference": "acme"})
    assert counterparty_matches("acme", {"payee_reference": "acme"})
    assert counterparty_matches("acme", {"counterparty": "acme"})
    assert counterparty_matches("acme", {"settlement": {"payer_reference": "acme"}})
    assert not counterparty_matches("acme", {"payer_reference": "globex", "memo": "acme"})
    assert not counterparty_matches("acme", {})


def test_an_event_creates_one_delivery_per_matching_endpoint_with_the_frozen_envelope(make_endpoint):
    # given endpoints with different subscriptions and filters
    everything = make_endpoint(event_types=["*"])
    settlements = make_endpoint(event_types=["settlement.*"])
    escrow_only = make_endpoint(event_types=["escrow.*"])
    acme = make_endpoint(event_types=["*"], counterparty="acme-treasury")
    other = make_endpoint(event_types=["*"], counterparty="someone-else")

    # when a settlement is created
    settlement = SettlementFactory(payer_reference="acme-treasury")

    # then exactly the matching endpoints got a delivery, carrying the event's canonical bytes
    event = Event.objects.get(aggregate_id=settlement.id)
    deliveries = WebhookDelivery.objects.filter(event_id=event.id)
    assert {d.endpoint_id for d in deliveries} == {everything.id, settlements.id, acme.id}
    for delivery in deliveries:
        assert bytes(delivery.body) == event.to_bytes()
        assert delivery.status == DeliveryStatus.PENDING
        assert (delivery.aggregate_type, delivery.aggregate_id, delivery.sequence) == ("settlement", settlement.id, 1)
    assert not WebhookDelivery.objects.filter(endpoint__in=[escrow_only, other]).exists()


def test_escrow_events_match_wildcards_and_counterparty(make_endpoint):
    escrow = make_endpoint(event_types=["escrow.*"], counterparty="acme")
    event = _escrow_event({"counterparty": "acme", "amount_wei": "1000"})
    assert WebhookDelivery.objects.filter(event_id=event.id, endpoint=escrow).count() == 1


def test_deliveries_are_written_in_the_events_transaction(make_endpoint):
    make_endpoint()
    # when the transaction recording an event rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        _escrow_event({"x": 1})
        raise RuntimeError("boom")
    # then neither the event nor a delivery exists
    assert not Event.objects.filter(aggregate_id="esc_1").exists()
    assert not WebhookDelivery.objects.exists()


def test_a_paused_endpoint_gets_held_deliveries(make_endpoint):
    endpoint = make_endpoint()
    webhook_endpoint_pause(endpoint_id=endpoint.id, actor="test")
    SettlementFactory()
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.HELD]
