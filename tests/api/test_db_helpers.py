"""The API's hot-path writes and reads (`fusionprime.db`) behave as the ORM calls they replace."""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fusionprime.api.models import ApiKey, IdempotencyRecord
from fusionprime.db import insert_unless_conflict, raw_instances, update_rows
from fusionprime.ids import new_id
from settlements.models import Asset, Settlement
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db

METADATA = {"invoice": 'tab\there, quote"s, ünïcode €', "po": "17"}


def _row(model, pk) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk])
        columns = [c.name for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _settlement(reference: str) -> Settlement:
    return Settlement(
        id=new_id("stl"),
        reference=reference,
        payer_reference="acme",
        payee_reference="globex",
        amount=Decimal("1250.50"),
        asset=Asset.objects.get(code="USD"),
        metadata=METADATA,
        created_by="test",
    )


def test_insert_unless_conflict_writes_the_row_create_writes_and_stamps_the_instance():
    orm, ours = _settlement("INV-ORM"), _settlement("INV-OURS")
    orm.save(force_insert=True)

    assert insert_unless_conflict(ours, on=("reference",)) is True

    a, b = _row(Settlement, orm.pk), _row(Settlement, ours.pk)
    for column in ("created_at", "updated_at"):  # insert-time stamps, on the row and the instance
        assert abs(a.pop(column) - b.pop(column)) < timedelta(seconds=5)
        assert getattr(ours, column) is not None
    for column in ("id", "reference"):
        assert a.pop(column) != b.pop(column)
    assert a == b and json.loads(b["metadata"]) == METADATA
    assert (ours._state.adding, ours._state.db) == (False, "default")


def test_a_conflict_on_the_unique_fields_writes_nothing_and_leaves_the_transaction_usable():
    existing = SettlementFactory(reference="INV-1")
    duplicate = _settlement("INV-1")

    with transaction.atomic():
        assert insert_unless_conflict(duplicate, on=("reference",)) is False
        assert Settlement.objects.filter(reference="INV-1").count() == 1  # no error aborted the transaction
    assert not Settlement.objects.filter(pk=duplicate.pk).exists()
    assert Settlement.objects.get(reference="INV-1").pk == existing.pk


def test_an_auto_primary_key_comes_back_from_the_insert(make_api_key):
    api_key = make_api_key().api_key
    now = timezone.now()
    record = IdempotencyRecord(
        api_key=api_key, key="k-1", request_hash="h", state="in_progress", locked_at=now, expires_at=now
    )

    assert insert_unless_conflict(record, on=("api_key", "key")) is True

    assert record.pk is not None and IdempotencyRecord.objects.get(pk=record.pk).key == "k-1"


@pytest.mark.django_db(transaction=True)
def test_async_commit_applies_only_where_the_statement_is_its_own_transaction(make_api_key):
    api_key = make_api_key().api_key
    now = timezone.now()

    def insert(key: str) -> str:
        record = IdempotencyRecord(
            api_key=api_key, key=key, request_hash="h", state="in_progress", locked_at=now, expires_at=now
        )
        with CaptureQueriesContext(connection) as queries:
            assert insert_unless_conflict(record, on=("api_key", "key"), async_commit=True)
        return queries[-1]["sql"]

    assert "set_config('synchronous_commit', 'off', true)" in insert("alone")
    with transaction.atomic():  # the enclosing transaction's commit must stay durable
        assert "synchronous_commit" not in insert("inside")
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"alone", "inside"}


def test_raw_instances_equal_the_orm_raw_query_set(make_api_key):
    make_api_key()
    sql = f"SELECT * FROM {ApiKey._meta.db_table}"  # noqa: S608 - a constant

    (ours,), (orm,) = raw_instances(ApiKey, sql), list(ApiKey.objects.raw(sql))

    fields = [f.attname for f in ApiKey._meta.concrete_fields]
    assert [getattr(ours, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert isinstance(ours.scopes, list) and ours.created_at.tzinfo is not None  # converted as the ORM converts
    assert (ours._state.adding, ours._state.db) == (False, "default")


def test_raw_instances_defer_the_columns_not_selected_in_any_order():
    settlement = SettlementFactory(metadata=METADATA)
    sql = f"SELECT metadata, amount, id FROM {Settlement._meta.db_table}"  # noqa: S608 - a constant

    (ours,) = raw_instances(Settlement, sql)

    assert (ours.id, ours.amount, ours.metadata) == (settlement.id, settlement.amount, METADATA)
    assert ours.get_deferred_fields() >= {"reference", "status", "created_at"}
    assert ours.reference == settlement.reference  # loaded on access, as a deferred field is


def test_update_rows_of_one_row_writes_what_save_with_update_fields_writes(make_api_key):
    orm, ours = SettlementFactory(), SettlementFactory()
    for settlement in (orm, ours):
        settlement.status, settlement.metadata = "funded", METADATA
    fields = ["status", "metadata", "updated_at"]
    orm.save(update_fields=fields)

    assert update_rows([ours], fields) == 1

    a, b = _row(Settlement, orm.pk), _row(Settlement, ours.pk)
    assert (b["status"], json.loads(b["metadata"]), b["updated_at"]) == ("funded", METADATA, ours.updated_at)
    assert {k: v for k, v in a.items() if k not in {"id", "reference", "created_at", "updated_at"}} == {
        k: v for k, v in b.items() if k not in {"id", "reference", "created_at", "updated_at"}
    }
    # a binary column through the one-row statement
    now = timezone.now()
    record = IdempotencyRecord.objects.create(
        api_key=make_api_key().api_key, key="k", request_hash="h", state="in_progress", locked_at=now, expires_at=now
    )
    record.state, record.response_status, record.response_body = "completed", 201, b'{"id": "x"}\x00\xff'
    assert update_rows([record], ["state", "response_status", "response_body"]) == 1
    assert bytes(IdempotencyRecord.objects.get(pk=record.pk).response_body) == b'{"id": "x"}\x00\xff'


def test_incr_window_counts_and_keeps_the_expiry_of_the_first_hit():
    key = f"test:window:{uuid.uuid4().hex}"

    assert [cache.incr_window(key, 60) for _ in range(3)] == [1, 2, 3]
    client = cache._cache.get_client(write=True)
    full_key = cache.make_and_validate_key(key)
    assert 0 < client.ttl(full_key) <= 60
    assert cache.incr_window(key, 600) == 4 and client.ttl(full_key) <= 60  # a later hit does not extend it


def test_raw_instances_leave_out_columns_the_model_does_not_know(make_api_key):
    # a column added by a migration that ran before this code was deployed
    make_api_key()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ApiKey._meta.db_table} ADD COLUMN added_later integer DEFAULT 7")
    sql = f"SELECT * FROM {ApiKey._meta.db_table}"  # noqa: S608 - a constant

    (ours,) = raw_instances(ApiKey, sql)

    assert ours.scopes == ["settlements:read", "settlements:write"] and not hasattr(ours, "added_later")
