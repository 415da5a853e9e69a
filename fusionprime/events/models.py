import json

from django.conf import settings
from django.db import models
from django.db.models import Q


class Event(models.Model):
    """An append-only domain event that doubles as the publishing outbox.

    Content columns never change after insert (a PostgreSQL trigger enforces it); only the
    publishing bookkeeping columns are updated.
    """

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    source = models.CharField(max_length=128)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=80)
    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(db_index=True)
    data = models.JSONField()
    actor = models.CharField(max_length=128, help_text="Who caused it: api_key:…, user:…, system:…")
    topic = models.CharField(max_length=128)

    published_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["aggregate_type", "aggregate_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"], name="event_aggregate_sequence_unique"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="event_sequence_positive"),
        ]
        indexes = [
            models.Index(
                fields=["aggregate_type", "aggregate_id", "sequence"],
                condition=Q(published_at__isnull=True),
                name="event_unpublished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_id}#{self.sequence}"

    @property
    def subject(self) -> str:
        return f"{self.aggregate_type}/{self.aggregate_id}"

    @property
    def time(self) -> str:
        return self.occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def to_envelope(self) -> dict:
        """The CloudEvents 1.0 structured envelope (see shared design/architecture.md)."""
        return {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time,
            "sequence": f"{self.sequence:020d}",
            "datacontenttype": "application/json",
            "dataschema": f"{settings.EVENT_SCHEMA_BASE_URL}/{self.aggregate_type}/v1",
            "data": self.data,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_envelope(), separators=(",", ":"), sort_keys=True).encode()

    def pubsub_attributes(self) -> dict[str, str]:
        return {
            "event_id": self.id,
            "event_type": self.type,
            "occurred_at": self.time,
            "aggregate_id": self.aggregate_id,
        }
