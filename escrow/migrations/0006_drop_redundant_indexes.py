"""Drops indexes no query uses: single-column foreign key indexes that a composite index leads with,
and the varchar_pattern_ops copies (see fusionprime.schema).
"""

import django.db.models.deletion
from django.db import migrations, models

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("escrow", "0005_chain_event_drop_covered_fk_indexes"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="chaintoken",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tokens",
                        to="escrow.chain",
                    ),
                ),
                migrations.AlterField(
                    model_name="crosschaininstruction",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instructions",
                        to="escrow.chain",
                    ),
                ),
                migrations.AlterField(
                    model_name="crosschaininstruction",
                    name="escrow",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instructions",
                        to="escrow.escrow",
                    ),
                ),
                migrations.AlterField(
                    model_name="escrow",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="escrows",
                        to="escrow.chain",
                    ),
                ),
                migrations.AlterField(
                    model_name="rpcprovider",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="providers",
                        to="escrow.chain",
                    ),
                ),
                migrations.AlterField(
                    model_name="watchedcontract",
                    name="chain",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="watched_contracts",
                        to="escrow.chain",
                    ),
                ),
            ],
            database_operations=[
                index_drop("escrow_chain", [pattern_index("escrow_chain_name_6b705e81_like", "name")]),
                index_drop(
                    "escrow_chaintoken",
                    [
                        ("escrow_chaintoken_chain_id_032067a2", "chain_id"),
                        pattern_index("escrow_chaintoken_asset_id_14e0302b_like", "asset_id"),
                    ],
                ),
                index_drop(
                    "escrow_crosschaininstruction",
                    [
                        ("escrow_crosschaininstruction_chain_id_ba9d4601", "chain_id"),
                        ("escrow_crosschaininstruction_escrow_id_aacefb4d", "escrow_id"),
                        pattern_index("escrow_crosschaininstruction_escrow_id_aacefb4d_like", "escrow_id"),
                    ],
                ),
                index_drop(
                    "escrow_escrow",
                    [
                        ("escrow_escrow_chain_id_8999dfca", "chain_id"),
                        pattern_index("escrow_escrow_id_95e377fb_like", "id"),
                        pattern_index("escrow_escrow_asset_id_fe4a5ddf_like", "asset_id"),
                        pattern_index("escrow_escrow_settlement_id_353fb86f_like", "settlement_id"),
                    ],
                ),
                index_drop("escrow_rpcprovider", [("escrow_rpcprovider_chain_id_b7249e71", "chain_id")]),
                index_drop(
                    "escrow_treasuryflag",
                    [
                        pattern_index("escrow_treasuryflag_escrow_id_5277afa9_like", "escrow_id"),
                        pattern_index("escrow_treasuryflag_settlement_id_69576151_like", "settlement_id"),
                    ],
                ),
                index_drop("escrow_watchedcontract", [("escrow_watchedcontract_chain_id_888818d6", "chain_id")]),
            ],
        ),
    ]
