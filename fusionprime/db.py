"""Bulk writes faster than the ORM's, with the ORM's semantics."""

import datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter

import orjson
import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

# Types json.dumps refuses go to `_refuse` instead of being written (orjson writes them natively).
_ORJSON_AS_STDLIB = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_prep(field: models.JSONField, value, db):
    """A JSON value for COPY: orjson's text for plain dicts and lists (a tenth of json.dumps's cost,
    which a backfill range pays twice per log); the field's own adaptation for everything else,
    and for what orjson cannot write as json.dumps would (integers past 64 bits, non-string keys).
    One difference remains: a NaN or infinite float, which json.dumps writes as JSON PostgreSQL
    refuses, orjson writes as null; money is never a float here, and the API refuses such input."""
    if field.encoder is None and type(value) in (dict, list):
        try:
            return orjson.dumps(value, default=_refuse, option=_ORJSON_AS_STDLIB).decode()
        except TypeError:
            pass
    return field.get_db_prep_save(value, db)


_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, datetime.date, datetime.time, datetime.timedelta)


@cache
def _slots(model: type[models.Model]) -> tuple[frozenset[str], dict, tuple]:
    """A model's attnames, and its defaults split into immutable values, shared by every instance,
    and those computed for each (a callable default, or a mutable value copied)."""
    constant, computed = {}, []
    for f in model._meta.concrete_fields:
        value = f.get_default()
        if isinstance(value, _IMMUTABLE) and not (f.has_default() and callable(f.default)):
            constant[f.attname] = value
        else:
            computed.append((f.attname, f.get_default))
    return frozenset(f.attname for f in model._meta.concrete_fields), constant, tuple(computed)


def new_instances(model: type[models.Model], rows: list[dict]) -> list[models.Model]:
    """Unsaved instances from attname → value dicts (`escrow_id`, not `escrow`), defaults filled in.

    A backfill range builds thousands. With ids instead of related objects no descriptor runs, and
    what `Model.__init__` does with positional values (set each attname, a fresh `ModelState`, the
    init signals) is done directly: a third of the constructor's cost. Models someone listens to
    at init go through the constructor. Related objects are not cached: keep the ones you hold.
    """
    attnames, constant, computed = _slots(model)
    if unknown := set().union(*rows) - attnames:
        raise TypeError(f"{model.__name__} has no fields {sorted(unknown)}")
    listened = pre_init.has_listeners(model) or post_init.has_listeners(model)
    instances = []
    for row in rows:
        values = {**constant, **row}
        for name, default in computed:
            if name not in row:
                values[name] = default()
        if listened:
            instances.append(model(**values))
            continue
        instance = model.__new__(model)
        instance._state = ModelState()
        instance.__dict__.update(values)
        instances.append(instance)
    return instances


def copy_insert(objs: list[models.Model]) -> None:
    """Inserts model instances (all of one model) like `bulk_create`, with PostgreSQL's COPY.

    bulk_create's `INSERT … SELECT * FROM UNNEST(%s::text[], …)` has psycopg quote every array
    element in Python; COPY streams the rows instead and is the fastest bulk insert. Every concrete
    field is written as bulk_create would write it: auto_now(_add) stamps via `pre_save`, JSON
    through the backend's own adapter, datetimes through the field (naive-time handling); an auto
    primary key left empty is reserved from its sequence first, so the callers get their pks.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: its per-attribute look-up shows at 10⁴ values
    if db.vendor != "postgresql":  # `make run` on SQLite
        type(objs[0]).objects.bulk_create(objs)
        return
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    stamped = [i for i, f in enumerate(fields) if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    json_fields = [(i, f) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    times = [(i, f) for i, f in enumerate(fields) if isinstance(f, models.DateTimeField) and i not in stamped]
    if isinstance(meta.pk, models.AutoField):
        _reserve_ids(db, meta, [obj for obj in objs if obj.pk is None])
    db.ensure_connection()
    quote = db.ops.quote_name
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    values_of = attrgetter(*(f.attname for f in fields))
    # One stamp per field for the batch (it is one statement in one transaction), set as pre_save sets it.
    stamps = {fields[i].attname: fields[i].pre_save(objs[0], add=True) for i in stamped}
    with db.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for obj in objs:
            obj.__dict__.update(stamps)
            row = list(values_of(obj))
            for i, f in json_fields:
                row[i] = _json_prep(f, row[i], db)
            for i, f in times:
                # An aware datetime goes to PostgreSQL as it is; a naive one gets Django's warning and zone.
                if row[i] is not None and timezone.is_naive(row[i]):
                    row[i] = f.get_db_prep_save(row[i], db)
            copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


def update_rows(objs: list[models.Model], fields: list[str]) -> int:
    """Writes `fields` of existing rows (all of one model) in one UPDATE, as `bulk_update` would;
    returns how many rows it updated.

    bulk_update builds a CASE WHEN expression per row and field (about a third of a millisecond a
    row); here each field's values go to PostgreSQL as one array, joined to the table on the primary
    key. An auto_now field among `fields` is stamped, once for the batch, as `save(update_fields=…)`
    stamps it (bulk_update would not).
    """
    if not objs:
        return 0
    db = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    meta = model._meta
    targets = [meta.pk, *(meta.get_field(name) for name in fields)]
    for f in targets:
        if getattr(f, "auto_now", False):
            stamp = f.pre_save(objs[0], add=False)
            for obj in objs:
                setattr(obj, f.attname, stamp)
    if db.vendor != "postgresql":  # `make run` on SQLite
        return model.objects.bulk_update(objs, fields)
    quote = db.ops.quote_name
    columns = [quote(f.column) for f in targets]
    if len(objs) == 1:  # a plain UPDATE: cheaper for both sides than unnest over one-element arrays
        sets = ", ".join(f"{c} = %s" for c in columns[1:])
        with db.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {columns[0]} = %s",  # noqa: S608 - quoted names
                [f.get_db_prep_save(getattr(objs[0], f.attname), db) for f in (*targets[1:], targets[0])],
            )
            return cursor.rowcount
    arrays = [[f.get_db_prep_save(getattr(obj, f.attname), db) for obj in objs] for f in targets]
    table, key, names = quote(meta.db_table), columns[0], ", ".join(columns)
    sets = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    typed = ", ".join(f"%b::{f.cast_db_type(db)}[]" for f in targets)
    # Identifiers come from the model, quoted; every value is a parameter.
    sql = f"UPDATE {table} AS t SET {sets} FROM unnest({typed}) AS v({names}) WHERE t.{key} = v.{key}"  # noqa: S608
    db.ensure_connection()
    # Binary parameters on a server-binding cursor: arrays go as they are, not quoted element by element
    # (never prepared: a transaction-pooling proxy may sit in front of PostgreSQL).
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, arrays, prepare=False)
        return cursor.rowcount


def _reserve_ids(db, meta, objs: list[models.Model]) -> None:
    if not objs:
        return
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk


@cache
def _insert_sql(model: type[models.Model], columns: tuple[str, ...], on: tuple[str, ...], async_commit: bool) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta
    # set_config(…, true) is SET LOCAL inside the statement: its own transaction, outside any atomic block.
    source = " FROM set_config('synchronous_commit', 'off', true)" if async_commit else ""
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - quoted names
        f"SELECT {', '.join(['%s'] * len(columns))}{source} "
        f"ON CONFLICT ({', '.join(quote(c) for c in on)}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )


def insert_unless_conflict(obj: models.Model, *, on: tuple[str, ...], async_commit: bool = False) -> bool:
    """Inserts one instance as `save(force_insert=True)` would, unless a row with the same values in
    the unique fields `on` exists; returns whether it inserted.

    One `INSERT … ON CONFLICT DO NOTHING` with SQL built once per model: the ORM compiles every
    INSERT afresh (most of a single-row create's CPU), and a duplicate needs no savepoint, since no
    error aborts the transaction. `async_commit` (PostgreSQL, when the statement is its own
    transaction) lets its commit skip the WAL flush: for rows whose loss in a crash is harmless.
    """
    db = connections[DEFAULT_DB_ALIAS]
    meta = obj._meta
    if db.vendor != "postgresql":  # `make run` on SQLite: the ORM, a duplicate being an IntegrityError
        try:
            with transaction.atomic(using=db.alias):
                obj.save(force_insert=True, using=db.alias)
            return True
        except IntegrityError:
            if type(obj)._default_manager.filter(**{name: getattr(obj, name) for name in on}).exists():
                return False
            raise
    fields = [
        f for f in meta.concrete_fields if not f.generated and not (f.primary_key and f.db_returning and obj.pk is None)
    ]
    # Inside a transaction the setting would reach the whole of it: there the enclosing commit decides.
    async_commit = async_commit and not db.in_atomic_block
    sql = _insert_sql(
        type(obj), tuple(f.column for f in fields), tuple(meta.get_field(n).column for n in on), async_commit
    )
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return True


@cache
def _loader(model: type[models.Model], columns: tuple[str, ...]):
    """For rows of `columns`: which to take, in the model's field order; their attnames; converters.

    Columns the model does not know are left out: during a rolling deploy the table can already have
    a column the running code has not heard of (`SELECT *` would then fail every request).
    """
    db = connections[DEFAULT_DB_ALIAS]
    position = {f.column: i for i, f in enumerate(model._meta.concrete_fields)}
    known = [i for i, column in enumerate(columns) if column in position]
    order = sorted(known, key=lambda i: position[columns[i]])
    fields = [model._meta.concrete_fields[position[columns[i]]] for i in order]
    converters = []
    for j, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        converters += [(j, converter, col) for converter in db.ops.get_db_converters(col) + col.get_db_converters(db)]
    return order, [f.attname for f in fields], converters


def raw_instances(model: type[models.Model], sql: str, params=()) -> list[models.Model]:
    """`model.objects.raw(sql, params)` as a list, for a statement that selects columns of `model`.

    Values are converted as the ORM converts them, and fields not selected are deferred. RawQuerySet
    works out how to build instances from the cursor on every call (a third of a millisecond, paid
    on every API request by its key look-up); this does it once per model and column list.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        columns = tuple(c[0] for c in cursor.description)
        rows = cursor.fetchall()
    order, attnames, converters = _loader(model, columns)
    instances = []
    for raw in rows:
        row = [raw[i] for i in order]
        for j, converter, col in converters:
            row[j] = converter(row[j], col, db)
        instances.append(model.from_db(db.alias, attnames, row))
    return instances
