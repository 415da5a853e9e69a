"""`copy_insert` writes exactly the rows `bulk_create` writes, only faster (COPY instead of INSERT)."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.utils import timezone

from escrow.models import Chain, ChainEvent, Escrow, EscrowState
from fusionprime.db import copy_insert, new_instances, update_rows
from fusionprime.events.models import Event
from fusionprime.ids import new_id

pytestmark = pytest.mark.django_db

# What COPY's text format must escape, and what JSON must keep as it is.
AWKWARD = 'tab\there, new\nline, back\\slash, quote"s, ünïcode €, \\N'
DATA = {"amount": "1250.500000", "nested": {"list": [1, "2", None, True]}, "text": AWKWARD, "none": None}


NOW = timezone.now()


def _row(model, pk) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} WHERE id = %s", [pk])
        columns = [c.name for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _assert_same_rows(model, orm, copied, *, differ: set[str], stamped: set[str] = frozenset()):
    """Equal column for column, except the keys that must differ and the insert-time stamps."""
    a, b = _row(model, orm.pk), _row(model, copied.pk)
    for column in stamped:
        assert abs(a.pop(column) - b.pop(column)) < timedelta(seconds=5)
        assert getattr(copied, column) is not None  # stamped on the instance too, like bulk_create
    for column in differ:
        assert a.pop(column) != b.pop(column)
    assert a == b
    assert copied._state.adding is False and copied._state.db == orm._state.db


def _event(aggregate_id: str) -> Event:
    return Event(
        id=new_id("evt"),
        type="escrow.escrow_created",
        source="/fusionprime/escrow",
        aggregate_type="escrow",
        aggregate_id=aggregate_id,
        sequence=1,
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        data=DATA,
        actor=AWKWARD,
        topic="chain.events.v1",
    )


def test_an_event_row_written_by_copy_equals_the_orm_row():
    orm, copied = _event("esc_a"), _event("esc_b")
    Event.objects.bulk_create([orm])
    copy_insert([copied])
    _assert_same_rows(Event, orm, copied, differ={"id", "aggregate_id"})
    assert Event.objects.get(pk=copied.pk).data == DATA  # read back as written: strings stay strings


def test_escrow_and_chain_event_rows_written_by_copy_equal_the_orm_rows():
    chain = Chain.objects.create(name="copy", chain_id=999, factory_address="0x" + "11" * 20)

    def escrow(address: str) -> Escrow:
        return Escrow(
            id=new_id("esc"),
            chain=chain,
            address=address,
            settlement_ref="0x" + "ab" * 32,
            payer="0x" + "01" * 20,
            payee="0x" + "02" * 20,
            token_address="0x" + "00" * 20,
            amount_base_units=10**30 + 7,  # beyond 64 bits, an int as the projection sets it
            arbiter="0x" + "03" * 20,
            threshold=2,
            approvers=["0x" + "04" * 20, "0x" + "05" * 20],
            release_time=datetime(2026, 1, 1, tzinfo=UTC),
            deadline=NOW,
            state=EscrowState.RELEASED,  # a TextChoices member is written as its value
            payment_pending=True,
            last_seq=3,
            created_block=12,
            created_tx="0x" + "cd" * 32,
        )

    orm, copied = escrow("0x" + "aa" * 20), escrow("0x" + "bb" * 20)
    Escrow.objects.bulk_create([orm])
    copy_insert([copied])
    _assert_same_rows(Escrow, orm, copied, differ={"id", "address"}, stamped={"created_at", "updated_at"})
    assert Escrow.objects.get(pk=copied.pk).state == "released"

    def event(escrow: Escrow, log_index: int) -> ChainEvent:
        return ChainEvent(
            chain=chain,
            block_number=12,
            block_hash="0x" + "ef" * 32,
            block_time=datetime(2026, 1, 2, tzinfo=UTC),
            tx_hash="0x" + "cd" * 32,
            log_index=log_index,
            address=escrow.address,
            escrow=escrow,
            contract="Escrow",
            event_name="Released",
            args=DATA,
            seq=None,
        )

    orm_events = [event(orm, 0)]
    copied_events = [event(copied, 1), event(copied, 2)]
    ChainEvent.objects.bulk_create(orm_events)
    copy_insert(copied_events)
    # Auto primary keys are taken from the table's sequence up front, so the instances have them.
    assert all(e.pk for e in copied_events) and len({e.pk for e in copied_events}) == 2
    _assert_same_rows(
        ChainEvent,
        orm_events[0],
        copied_events[0],
        differ={"id", "escrow_id", "address", "log_index"},
        stamped={"recorded_at"},
    )
    # and a later ORM insert continues the same sequence
    after = event(orm, 3)
    after.save()
    assert after.pk > max(e.pk for e in copied_events)


def test_a_naive_datetime_is_stored_as_the_orm_stores_it():
    orm, copied = _event("esc_c"), _event("esc_d")
    orm.occurred_at = copied.occurred_at = datetime(2026, 1, 2, 3, 4, 5)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        Event.objects.bulk_create([orm])
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        copy_insert([copied])
    _assert_same_rows(Event, orm, copied, differ={"id", "aggregate_id"})


def test_a_webhook_delivery_with_a_binary_body_written_by_copy_equals_the_orm_row():
    from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        id=new_id("we"), url="https://hooks.example.com/in", event_types=["*"], created_by="test"
    )
    body = b'{"text": "' + AWKWARD.encode() + b'"}\x00\xff\\N\t\n'  # every byte COPY's text format escapes

    def delivery(event_id: str) -> WebhookDelivery:
        return WebhookDelivery(
            id=new_id("whd"),
            endpoint=endpoint,
            event_id=event_id,
            event_type="settlement.created",
            aggregate_type="settlement",
            aggregate_id="stl_1",
            sequence=2**40,
            body=body,
            status=DeliveryStatus.HELD,
            next_attempt_at=NOW,
        )

    orm, copied = delivery("evt_1"), delivery("evt_2")
    WebhookDelivery.objects.bulk_create([orm])
    copy_insert([copied])
    _assert_same_rows(WebhookDelivery, orm, copied, differ={"id", "event_id"}, stamped={"created_at"})
    assert bytes(WebhookDelivery.objects.get(pk=copied.pk).body) == body


@pytest.mark.parametrize(
    "data",
    [
        {"big": 2**70, "negative": -(2**65)},  # past 64 bits: orjson refuses, json.dumps writes them
        {1: "int key", "list": [{2: None}]},  # json.dumps writes non-string keys as strings
        [{"a": 1.5}, "text", None],
    ],
)
def test_json_orjson_cannot_write_as_json_dumps_would_is_stored_as_the_orm_stores_it(data):
    orm, copied = _event("esc_f"), _event("esc_g")
    orm.data = copied.data = data
    Event.objects.bulk_create([orm])
    copy_insert([copied])
    _assert_same_rows(Event, orm, copied, differ={"id", "aggregate_id"})


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize("value", [NOW, _Point(1)])
def test_json_that_json_dumps_refuses_is_refused_as_the_orm_refuses_it(value):
    # orjson would write a datetime or a dataclass; the ORM path (json.dumps) refuses both
    orm, copied = _event("esc_i"), _event("esc_j")
    orm.data = copied.data = {"when": value}
    with pytest.raises(TypeError, match="not JSON serializable"):
        Event.objects.bulk_create([orm])
    with pytest.raises(TypeError, match="not JSON serializable"):
        copy_insert([copied])


def test_new_instances_equal_keyword_built_instances_defaults_included():
    keyword = _event("esc_e")
    (positional,) = new_instances(
        Event,
        [
            {name: getattr(keyword, name) for name in ("id", "type", "source", "aggregate_type", "aggregate_id")}
            | {
                "sequence": 1,
                "occurred_at": keyword.occurred_at,
                "data": DATA,
                "actor": AWKWARD,
                "topic": keyword.topic,
            }
        ],
    )
    fields = [f.attname for f in Event._meta.concrete_fields]
    assert [getattr(positional, f) for f in fields] == [getattr(keyword, f) for f in fields]
    assert (positional.publish_attempts, positional.last_error, positional.published_at) == (0, "", None)
    assert (positional._state.adding, positional._state.db) == (True, None)
    assert vars(positional).keys() == vars(keyword).keys()


def test_new_instances_share_immutable_defaults_only_and_refuse_unknown_fields():
    from settlements.models import Settlement

    first, second = new_instances(Settlement, [{"id": "stl_1"}, {"id": "stl_2"}])
    assert first.metadata == second.metadata == {} and first.metadata is not second.metadata
    assert (first.status, first.status_reason, first.chain_id) == ("pending", "", None)
    with pytest.raises(TypeError, match=r"Settlement has no fields \['asset', 'colour'\]"):
        new_instances(Settlement, [{"id": "stl_3", "asset": "USD"}, {"colour": "red"}])


def test_new_instances_of_a_model_with_init_listeners_go_through_the_constructor():
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=Event)
    try:
        (event,) = new_instances(Event, [{"id": "evt_1", "data": DATA}])
    finally:
        post_init.disconnect(listener, sender=Event)
    assert seen == [event] and event.data == DATA


def test_update_rows_writes_what_save_with_update_fields_writes():
    from settlements.models import SettlementStatus
    from tests.factories import SettlementFactory

    orm, arrays, second, untouched = (SettlementFactory() for _ in range(4))
    before = _row(type(untouched), untouched.pk)
    old_stamp = second.updated_at
    for settlement in (orm, arrays, second):
        settlement.status = SettlementStatus.FUNDED  # a TextChoices member is written as its value
        settlement.status_reason = AWKWARD
        settlement.metadata = DATA
    fields = ["status", "status_reason", "metadata", "updated_at"]
    orm.save(update_fields=fields)
    assert update_rows([arrays, second], fields) == 2
    # equal column for column; updated_at stamped now on row and instance, as save() stamps it
    _assert_same_rows(type(orm), orm, arrays, differ={"id", "reference"}, stamped={"created_at", "updated_at"})
    assert second.updated_at == arrays.updated_at > old_stamp  # one stamp for the batch
    row = _row(type(second), second.pk)
    assert (row["status"], json.loads(row["metadata"]), row["updated_at"]) == ("funded", DATA, second.updated_at)
    assert _row(type(untouched), untouched.pk) == before
    assert update_rows([], fields) == 0
