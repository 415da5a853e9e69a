"""Drops ChainEvent's single-column FK indexes, which composite indexes already cover.

Django's own AlterField would drop and re-add the foreign keys, re-validating them under an exclusive
lock on what is the largest table; only the indexes need to go, and CONCURRENTLY keeps the relayer
writing meanwhile (hence a non-atomic migration).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("escrow_chainevent_chain_id_ffbca07b", "chain_id"),
    ("escrow_chainevent_escrow_id_92aea2e1", "escrow_id"),
]
PATTERN_INDEX = ("escrow_chainevent_escrow_id_92aea2e1_like", "escrow_id varchar_pattern_ops")  # PostgreSQL only


def _indexes(vendor: str) -> list[tuple[str, str]]:
    return [*INDEXES, PATTERN_INDEX] if vendor == "postgresql" else INDEXES


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    concurrently = " CONCURRENTLY" if vendor == "postgresql" else ""
    for name, _ in _indexes(vendor):
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    concurrently = " CONCURRENTLY" if vendor == "postgresql" else ""
    for name, columns in _indexes(vendor):
        schema_editor.execute(f"CREATE INDEX{concurrently} IF NOT EXISTS {name} ON escrow_chainevent ({columns})")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("escrow", "0004_treasury_crosschain_permissions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="chainevent",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="escrow.chain",
                    ),
                ),
                migrations.AlterField(
                    model_name="chainevent",
                    name="escrow",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="escrow.escrow",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
