import itertools
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from fusionprime.errors import Conflict, IllegalTransition, NotFound, ValidationError
from fusionprime.events.models import Event
from settlements import services
from settlements.models import TERMINAL, TRANSITIONS, Settlement, SettlementStatus
from tests.factories import SettlementFactory
from tests.support.envelopes import parse_envelope

pytestmark = pytest.mark.django_db

MOVES = {
    SettlementStatus.FUNDED: services.settlement_mark_funded,
    SettlementStatus.SETTLED: services.settlement_mark_settled,
    SettlementStatus.CANCELLED: services.settlement_cancel,
    SettlementStatus.FAILED: services.settlement_fail,
    SettlementStatus.REFUNDED: services.settlement_refund,
}
# How to reach each status from pending.
PATHS = {
    SettlementStatus.PENDING: [],
    SettlementStatus.FUNDED: [SettlementStatus.FUNDED],
    SettlementStatus.SETTLED: [SettlementStatus.FUNDED, SettlementStatus.SETTLED],
    SettlementStatus.CANCELLED: [SettlementStatus.CANCELLED],
    SettlementStatus.FAILED: [SettlementStatus.FAILED],
    SettlementStatus.REFUNDED: [SettlementStatus.FUNDED, SettlementStatus.REFUNDED],
}


def events_of(settlement):
    return list(Event.objects.filter(aggregate_id=settlement.id).order_by("sequence"))


def test_create_stores_exact_amount_and_writes_created_event():
    settlement = SettlementFactory(amount="1250.50", asset="USD", metadata={"invoice": "INV-1"})

    assert settlement.id.startswith("stl_")
    stored = Settlement.objects.get(pk=settlement.id)
    assert stored.amount == Decimal("1250.50")
    assert stored.status == SettlementStatus.PENDING
    [event] = events_of(settlement)
    assert (event.type, event.sequence, event.actor) == ("settlement.created", 1, "test:factory")
    assert event.data["amount"] == "1250.50"
    assert event.data["asset"] == "USD"
    assert event.data["metadata"] == {"invoice": "INV-1"}
    assert event.published_at is None


def test_envelope_is_valid_cloudevents_with_padded_sequence():
    settlement = SettlementFactory()
    envelope = events_of(settlement)[0].to_envelope()

    parsed = parse_envelope(envelope)
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_type() == "settlement.created"
    assert parsed.get_subject() == f"settlement/{settlement.id}"
    assert parsed.get_extension("sequence") == "00000000000000000001"
    assert envelope["sequence"] == "00000000000000000001"
    assert envelope["time"].endswith("Z")
    assert envelope["id"].startswith("evt_")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("asset", "XYZ", "unknown_asset"),
        ("amount", "0", "amount_not_positive"),
        ("amount", "-5", "amount_invalid"),
        ("amount", "1.001", "amount_too_precise"),
        ("amount", 12.5, "amount_not_string"),
        ("rail", "wire", "invalid_rail"),
        ("payee_reference", "acme-treasury", "same_party"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(field, value, code):
    with pytest.raises(ValidationError) as exc:
        SettlementFactory(**{field: value})
    assert exc.value.code == code
    assert not Settlement.objects.exists()
    assert not Event.objects.exists()


def test_escrow_rail_requires_chain_id_and_offchain_refuses_one():
    with pytest.raises(ValidationError, match="chain_id"):
        SettlementFactory(rail="escrow")
    with pytest.raises(ValidationError, match="chain_id"):
        SettlementFactory(rail="offchain", chain_id=1)
    assert SettlementFactory(rail="escrow", chain_id=11155111).chain_id == 11155111


def test_duplicate_reference_is_a_conflict_naming_the_existing_settlement():
    first = SettlementFactory(reference="INV-9")
    with pytest.raises(Conflict) as exc:
        SettlementFactory(reference="INV-9")
    assert exc.value.code == "duplicate_reference"
    assert exc.value.extra["existing_id"] == first.id


@pytest.mark.parametrize(("start", "target"), list(itertools.product(PATHS, MOVES)))
def test_transition_map_is_enforced(start, target):
    settlement = SettlementFactory()
    for step in PATHS[start]:
        MOVES[step](settlement_id=settlement.id, actor="test")
    before = len(events_of(settlement))

    if target in TRANSITIONS.get(start, ()):
        result = MOVES[target](settlement_id=settlement.id, actor="user:alice", reason="because")
        assert result.status == target
        last = events_of(settlement)[-1]
        assert (last.type, last.sequence, last.actor) == (f"settlement.{target}", before + 1, "user:alice")
    else:
        with pytest.raises(IllegalTransition) as exc:
            MOVES[target](settlement_id=settlement.id, actor="test")
        assert exc.value.status == 409
        assert exc.value.extra["current_status"] == start
        assert Settlement.objects.get(pk=settlement.id).status == start
        assert len(events_of(settlement)) == before


def test_terminal_states_have_no_way_out():
    assert TERMINAL == {"settled", "cancelled", "failed", "refunded"}
    assert not set(TRANSITIONS) & TERMINAL


def test_transition_of_unknown_settlement_is_not_found():
    with pytest.raises(NotFound):
        services.settlement_cancel(settlement_id="stl_missing", actor="test")


def test_sequences_count_up_without_gaps():
    settlement = SettlementFactory()
    services.settlement_mark_funded(settlement_id=settlement.id, actor="test")
    services.settlement_mark_settled(settlement_id=settlement.id, actor="test")
    assert [e.sequence for e in events_of(settlement)] == [1, 2, 3]
    assert [e.data["status"] for e in events_of(settlement)] == ["pending", "funded", "settled"]


def test_event_log_is_append_only_in_the_database():
    settlement = SettlementFactory()
    event = events_of(settlement)[0]
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(data={"tampered": True})
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    # Publishing bookkeeping may change.
    assert Event.objects.filter(pk=event.pk).update(publish_attempts=1) == 1


def test_database_constraints_refuse_bad_rows_even_without_services():
    settlement = SettlementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.filter(pk=settlement.pk).update(amount=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.filter(pk=settlement.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.filter(pk=settlement.pk).update(chain_id=5)


@pytest.mark.django_db(transaction=True)
def test_event_record_refuses_to_run_outside_a_transaction():
    from fusionprime.events.services import event_record

    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        event_record(aggregate_type="settlement", aggregate_id="x", type="t", data={}, actor="a")
    assert not Event.objects.exists()


def test_a_batch_of_moves_applies_them_in_order_with_one_lock_query_and_one_event_write(
    django_assert_max_num_queries,
):
    # given three pending settlements
    a, b, c = SettlementFactory(), SettlementFactory(), SettlementFactory()
    moves = [
        services.Move(a.id, SettlementStatus.FUNDED, "escrow funded", {"escrow": {"block_number": 7}}),
        services.Move(b.id, SettlementStatus.CANCELLED, "client cancelled"),
        services.Move(a.id, SettlementStatus.SETTLED, "escrow released"),
        services.Move(c.id, SettlementStatus.FUNDED),
    ]

    # when they are moved in one batch: savepoint, one row lock, last sequences, webhook endpoints,
    # release (the UPDATE and the event COPY go through psycopg directly); one call per move makes 20
    with django_assert_max_num_queries(5):
        moved = services.settlements_move(moves=moves, actor="test:batch")

    # then each settlement went through its moves in order, with one gap-free event per move
    assert {s.id: s.status for s in Settlement.objects.filter(pk__in=[a.id, b.id, c.id])} == {
        a.id: SettlementStatus.SETTLED,
        b.id: SettlementStatus.CANCELLED,
        c.id: SettlementStatus.FUNDED,
    }
    assert moved[a.id].status_reason == "escrow released"
    assert [(e.type, e.sequence) for e in events_of(a)] == [
        ("settlement.created", 1),
        ("settlement.funded", 2),
        ("settlement.settled", 3),
    ]
    funded = events_of(a)[1]
    assert funded.data["status"] == "funded" and funded.data["escrow"] == {"block_number": 7}
    assert funded.actor == "test:batch"
    assert [e.type for e in events_of(b)] == ["settlement.created", "settlement.cancelled"]


@pytest.mark.parametrize("bad", ["illegal", "unknown"])
def test_a_batch_with_one_bad_move_raises_and_writes_nothing(bad):
    a, b = SettlementFactory(), SettlementFactory()
    last = (
        services.Move(b.id, SettlementStatus.SETTLED)  # pending cannot become settled
        if bad == "illegal"
        else services.Move("stl_01j00000000000000000000000", SettlementStatus.FUNDED)
    )
    with pytest.raises(IllegalTransition if bad == "illegal" else NotFound):
        services.settlements_move(moves=[services.Move(a.id, SettlementStatus.FUNDED), last], actor="test")
    assert set(Settlement.objects.values_list("status", flat=True)) == {SettlementStatus.PENDING}
    assert [e.type for e in events_of(a)] == ["settlement.created"]
