"""Drops indexes no query uses: the varchar_pattern_ops copies of the settlement and asset indexes (see
fusionprime.schema).
"""

from django.db import migrations

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("settlements", "0002_assets_and_treasury_group"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        index_drop("settlements_asset", [pattern_index("settlements_asset_code_06c79091_like", "code")]),
        index_drop(
            "settlements_settlement",
            [
                pattern_index("settlements_settlement_id_abc2d23b_like", "id"),
                pattern_index("settlements_settlement_reference_07e0ab1c_like", "reference"),
                pattern_index("settlements_settlement_payer_reference_a5a753d6_like", "payer_reference"),
                pattern_index("settlements_settlement_payee_reference_d90d0575_like", "payee_reference"),
                pattern_index("settlements_settlement_asset_id_52d59c7e_like", "asset_id"),
            ],
        ),
    ]
