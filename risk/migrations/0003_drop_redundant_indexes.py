"""Drops indexes no query uses: the varchar_pattern_ops copies of the asset indexes (see
fusionprime.schema).
"""

from django.db import migrations

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0002_treasury_risk_permissions"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        index_drop("risk_exposurelimit", [pattern_index("risk_exposurelimit_asset_id_58140d7d_like", "asset_id")]),
        index_drop(
            "risk_exposurelimitchange", [pattern_index("risk_exposurelimitchange_asset_id_daa5efdd_like", "asset_id")]
        ),
    ]
