"""Drops indexes no query uses: the idempotency records' api_key index, which the (api_key, key) unique
index covers, and the varchar_pattern_ops copies (see fusionprime.schema).
"""

import django.db.models.deletion
from django.db import migrations, models

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="api_key",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="api.apikey"
                    ),
                ),
            ],
            database_operations=[
                index_drop(
                    "api_apikey",
                    [
                        pattern_index("api_apikey_id_3e5cb8e7_like", "id"),
                        pattern_index("api_apikey_prefix_3aa7aa72_like", "prefix"),
                    ],
                ),
                index_drop(
                    "api_idempotencyrecord",
                    [
                        ("api_idempotencyrecord_api_key_id_7a4f6cf1", "api_key_id"),
                        pattern_index("api_idempotencyrecord_api_key_id_7a4f6cf1_like", "api_key_id"),
                    ],
                ),
            ],
        ),
    ]
