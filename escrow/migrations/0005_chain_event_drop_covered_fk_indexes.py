"""Drops ChainEvent's single-column FK indexes, which composite indexes already cover.

Django's own AlterField would drop and re-add the foreign keys, re-validating them under an exclusive
lock on what is the largest table; only the indexes need to go, and CONCURRENTLY keeps the relayer
writing meanwhile (hence a non-atomic migration).
"""

import django.db.models.deletion
from django.db import migrations, models

from fusionprime.schema import index_drop, pattern_index

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
            database_operations=[
                index_drop(
                    "escrow_chainevent",
                    [
                        ("escrow_chainevent_chain_id_ffbca07b", "chain_id"),
                        ("escrow_chainevent_escrow_id_92aea2e1", "escrow_id"),
                        pattern_index("escrow_chainevent_escrow_id_92aea2e1_like", "escrow_id"),
                    ],
                )
            ],
        ),
    ]
