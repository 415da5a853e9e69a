"""Drops indexes no query uses: the varchar_pattern_ops copies of the event id and type indexes (see
fusionprime.schema).
"""

from django.db import migrations

from fusionprime.schema import index_drop, pattern_index


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
    ]

    atomic = False  # CREATE/DROP INDEX CONCURRENTLY

    operations = [
        index_drop(
            "events_event",
            [
                pattern_index("events_event_id_75d2cab3_like", "id"),
                pattern_index("events_event_type_369b1d2e_like", "type"),
            ],
        ),
    ]
