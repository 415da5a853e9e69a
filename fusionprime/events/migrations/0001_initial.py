from django.db import migrations, models

# Content columns are immutable and rows are never deleted: the log is the audit trail.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION events_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'events_event is append-only: delete refused';
    END IF;
    IF NEW.id <> OLD.id OR NEW.type <> OLD.type OR NEW.source <> OLD.source
       OR NEW.aggregate_type <> OLD.aggregate_type OR NEW.aggregate_id <> OLD.aggregate_id
       OR NEW.sequence <> OLD.sequence OR NEW.occurred_at <> OLD.occurred_at
       OR NEW.data::text <> OLD.data::text OR NEW.actor <> OLD.actor OR NEW.topic <> OLD.topic THEN
        RAISE EXCEPTION 'events_event is append-only: content columns cannot change';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_event_append_only
    BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
DROP FUNCTION IF EXISTS events_event_append_only();
"""


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.CharField(editable=False, max_length=40, primary_key=True, serialize=False)),
                ("type", models.CharField(db_index=True, max_length=64)),
                ("source", models.CharField(max_length=128)),
                ("aggregate_type", models.CharField(max_length=32)),
                ("aggregate_id", models.CharField(max_length=80)),
                ("sequence", models.PositiveBigIntegerField()),
                ("occurred_at", models.DateTimeField(db_index=True)),
                ("data", models.JSONField()),
                (
                    "actor",
                    models.CharField(help_text="Who caused it: api_key:…, user:…, system:…", max_length=128),
                ),
                ("topic", models.CharField(max_length=128)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("publish_attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("message_id", models.CharField(blank=True, max_length=64)),
            ],
            options={"ordering": ["aggregate_type", "aggregate_id", "sequence"]},
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("aggregate_type", "aggregate_id", "sequence"), name="event_aggregate_sequence_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(condition=models.Q(("sequence__gte", 1)), name="event_sequence_positive"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("published_at__isnull", True)),
                fields=["aggregate_type", "aggregate_id", "sequence"],
                name="event_unpublished_idx",
            ),
        ),
        migrations.RunPython(install_trigger, drop_trigger),
    ]
