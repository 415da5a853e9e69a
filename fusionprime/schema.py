"""Index changes Django's migration operations cannot express, or express too heavily.

Django gives every indexed or unique varchar column a second, `varchar_pattern_ops` index (for
`LIKE 'prefix%'` under a non-C collation) and every foreign key its own index. Nothing here filters
by prefix (admin searches are exact or `icontains`, which no b-tree serves), and a foreign key that
leads a composite index is served by it; yet each such index costs every insert one more b-tree
write. Dropping them through `AlterField` would drop and re-add the foreign keys, re-validating them
under an exclusive lock; these operations drop only the index, CONCURRENTLY, so writers carry on
(the migration using them must be `atomic = False`).
"""

from django.db import migrations

PATTERN_OPS = "varchar_pattern_ops"


def index_drop(table: str, indexes: list[tuple[str, str]]) -> migrations.RunPython:
    """Drops `indexes` of `table`, given as (name, columns) pairs, and re-creates them on the way back.

    An index whose columns name an operator class exists on PostgreSQL only and is skipped elsewhere.
    """

    def applicable(schema_editor) -> tuple[list[tuple[str, str]], str]:
        if schema_editor.connection.vendor == "postgresql":
            return indexes, " CONCURRENTLY"
        return [(name, columns) for name, columns in indexes if "_ops" not in columns], ""

    def drop(apps, schema_editor):
        chosen, concurrently = applicable(schema_editor)
        for name, _ in chosen:
            schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")

    def create(apps, schema_editor):
        chosen, concurrently = applicable(schema_editor)
        for name, columns in chosen:
            schema_editor.execute(f"CREATE INDEX{concurrently} IF NOT EXISTS {name} ON {table} ({columns})")

    return migrations.RunPython(drop, create)


def pattern_index(name: str, column: str) -> tuple[str, str]:
    return name, f"{column} {PATTERN_OPS}"
