"""Drops indexes no query uses: the endpoint indexes of deliveries and attempts, which composite
indexes lead with, and the varchar_pattern_ops copies (see fusionprime.schema).
"""

import django.db.models.deletion
from django.db import migrations, models

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_ops_group"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookattempt",
                    name="endpoint",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="webhooks.webhookendpoint",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="endpoint",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="webhooks.webhookendpoint",
                    ),
                ),
            ],
            database_operations=[
                index_drop(
                    "webhooks_webhookattempt",
                    [
                        ("webhooks_webhookattempt_endpoint_id_53f93a93", "endpoint_id"),
                        pattern_index("webhooks_webhookattempt_endpoint_id_53f93a93_like", "endpoint_id"),
                        pattern_index("webhooks_webhookattempt_delivery_id_c57db657_like", "delivery_id"),
                    ],
                ),
                index_drop(
                    "webhooks_webhookdelivery",
                    [
                        ("webhooks_webhookdelivery_endpoint_id_d5bfb5c8", "endpoint_id"),
                        pattern_index("webhooks_webhookdelivery_endpoint_id_d5bfb5c8_like", "endpoint_id"),
                        pattern_index("webhooks_webhookdelivery_id_c864ad1c_like", "id"),
                    ],
                ),
                index_drop(
                    "webhooks_webhookendpoint", [pattern_index("webhooks_webhookendpoint_id_fb4b7cd8_like", "id")]
                ),
                index_drop(
                    "webhooks_webhooksecret",
                    [pattern_index("webhooks_webhooksecret_endpoint_id_87f77d25_like", "endpoint_id")],
                ),
            ],
        ),
    ]
