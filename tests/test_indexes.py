"""The migrated schema carries no index that only costs writes (see fusionprime.schema)."""

import pytest
from django.apps import apps
from django.db import connection

from fusionprime.schema import PATTERN_OPS, index_drop

pytestmark = pytest.mark.django_db

OUR_APPS = ("api", "events", "settlements", "escrow", "risk", "webhooks")


def _indexes() -> list[tuple[str, str, bool, bool, list[str]]]:
    """(table, index, unique, partial, key columns with their operator classes) of our apps' tables."""
    tables = [m._meta.db_table for label in OUR_APPS for m in apps.get_app_config(label).get_models()]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
                   array(SELECT pg_get_indexdef(x.indexrelid, k + 1, true)
                           || CASE WHEN o.opcdefault THEN '' ELSE ' ' || o.opcname END
                         FROM generate_subscripts(x.indkey, 1) AS k
                         JOIN pg_opclass o ON o.oid = x.indclass[k]
                         ORDER BY k)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s)
            """,
            [tables],
        )
        return [(t, i, u, p, list(cols)) for t, i, u, p, cols in cursor.fetchall()]


def test_indexes_are_read_into_columns_with_operator_classes():
    by_name = {name: columns for _, name, *_, columns in _indexes()}
    assert by_name["event_aggregate_sequence_unique"] == ["aggregate_type", "aggregate_id", "sequence"]
    assert by_name["chain_event_escrow_idx"] == ["escrow_id", "block_number", "log_index"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX probe_like ON events_event (type {PATTERN_OPS})")
    assert {name: columns for _, name, *_, columns in _indexes()}["probe_like"] == [f"type {PATTERN_OPS}"]


def test_no_pattern_ops_indexes():
    """Nothing filters by prefix: a varchar_pattern_ops index (Django adds one to every indexed
    varchar) would cost each insert a b-tree write for no reader."""
    found = [name for _, name, _, _, columns in _indexes() if any(PATTERN_OPS in c for c in columns)]
    assert found == []


def test_no_plain_index_is_covered_by_another():
    """A non-unique full index whose columns lead another index of its table serves no query the
    longer one does not."""
    indexes = _indexes()
    covered = [
        (name, other)
        for table, name, unique, partial, columns in indexes
        if not unique and not partial
        for table2, other, _, partial2, columns2 in indexes
        if table2 == table and other != name and not partial2 and columns2[: len(columns)] == columns
    ]
    assert covered == []


@pytest.mark.django_db(transaction=True)
def test_index_drop_reverses():
    """The migration operation drops the named indexes and re-creates them on the way back."""
    operation = index_drop("events_event", [("probe_type_idx", "type"), ("probe_type_like", f"type {PATTERN_OPS}")])
    names = lambda: {name for _, name, *_ in _indexes()}  # noqa: E731
    with connection.schema_editor(atomic=False) as editor:
        operation.reverse_code(apps, editor)
    assert {"probe_type_idx", "probe_type_like"} <= names()
    with connection.schema_editor(atomic=False) as editor:
        operation.code(apps, editor)
    assert not {"probe_type_idx", "probe_type_like"} & names()
