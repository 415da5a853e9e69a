from django.db import models
from django.db.models import Q


class EndpointState(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class WebhookEndpoint(models.Model):
    """A subscriber URL. Health bookkeeping lives here so the sweep never aggregates history."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=500, blank=True)
    event_types = models.JSONField(
        default=list, help_text='Exact types or wildcards: "settlement.created", "escrow.*", "*".'
    )
    counterparty = models.CharField(max_length=128, blank=True, help_text="Only events about this party (see README).")
    headers = models.JSONField(default=dict, blank=True, help_text="Extra request headers sent with every delivery.")
    state = models.CharField(max_length=16, choices=EndpointState.choices, default=EndpointState.ACTIVE)
    disabled_reason = models.CharField(max_length=500, blank=True)
    rate_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Attempts per second; empty = no limit.")
    max_in_flight = models.PositiveIntegerField(default=10)
    created_by = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # First failed attempt since the last success; drives auto-disable.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    notified_failing_at = models.DateTimeField(null=True, blank=True)
    notified_disable_warning_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["active", "paused", "disabled"]), name="webhook_endpoint_state_valid"
            ),
            models.CheckConstraint(condition=Q(max_in_flight__gte=1), name="webhook_endpoint_max_in_flight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"


class WebhookSecret(models.Model):
    """A signing secret, Fernet-encrypted. Current secrets have no expiry; rotated ones sign until expires_at."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    ciphertext = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} ({'current' if self.expires_at is None else 'expiring'})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # scheduled; leased while an attempt is running
    HELD = "held"  # endpoint paused/disabled: kept, not attempted
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retries exhausted: the dead list
    SKIPPED = "skipped"  # an operator let later deliveries pass it


# Statuses that let the next delivery of the same endpoint+aggregate go.
RESOLVED_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)


class WebhookDelivery(models.Model):
    id = models.CharField(primary_key=True, max_length=40, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event_id = models.CharField(max_length=40, help_text="Also the webhook-id header.")
    event_type = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=80)
    sequence = models.PositiveBigIntegerField()
    is_test = models.BooleanField(default=False)
    # The envelope frozen at creation; every attempt sends these bytes. Purged after retention.
    body = models.BinaryField(null=True, blank=True)
    body_purged_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_trigger = models.CharField(max_length=16, default="scheduled")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "held", "succeeded", "failed", "skipped"]),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="webhook_delivery_pending_is_scheduled",
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due_idx"),
            models.Index(
                fields=["endpoint", "aggregate_type", "aggregate_id", "sequence"],
                condition=Q(status__in=["pending", "held"]),
                name="webhook_delivery_open_idx",
            ),
            models.Index(fields=["endpoint", "status"], name="webhook_delivery_ep_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.event_type} → {self.endpoint_id}"


class AttemptTrigger(models.TextChoices):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    TEST = "test"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_set")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=16, choices=AttemptTrigger.choices)
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    url = models.CharField(max_length=2048)
    resolved_ip = models.GenericIPAddressField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)
    error_class = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        indexes = [models.Index(fields=["endpoint", "started_at"], name="webhook_attempt_ep_time_idx")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
