"""Reads: endpoint lists for the API and health figures for admin."""

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.expressions import RawSQL

from fusionprime.api.pagination import cursor_page
from fusionprime.errors import NotFound
from webhooks.models import DeliveryStatus, WebhookEndpoint

HEALTH_WINDOW = timedelta(hours=24)


def webhook_endpoint_list(*, params) -> tuple[list[WebhookEndpoint], bool]:
    return cursor_page(
        WebhookEndpoint.objects.all(),
        prefix="we",
        limit_raw=params.get("limit"),
        starting_after=params.get("starting_after"),
    )


def webhook_endpoint_get(*, endpoint_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint '{endpoint_id}'.", param="id", code="webhook_endpoint_not_found")
    return endpoint


def endpoints_with_health(queryset=None, *, window: timedelta = HEALTH_WINDOW):
    """Endpoints annotated with health figures: attempts and successes in the window, p95 latency (ms),
    and pending/held/failed delivery counts. One query, whatever the number of endpoints."""
    queryset = WebhookEndpoint.objects.all() if queryset is None else queryset
    seconds = int(window.total_seconds())
    # Fixed SQL text; the only value is bound as a parameter.
    attempts_in_window = (
        "FROM webhooks_webhookattempt a WHERE a.endpoint_id = webhooks_webhookendpoint.id "
        "AND a.started_at >= now() - make_interval(secs => %s)"
    )
    return queryset.annotate(
        health_attempts=RawSQL(f"SELECT count(*) {attempts_in_window}", [seconds]),  # noqa: S611
        health_succeeded=RawSQL(f"SELECT count(*) {attempts_in_window} AND a.succeeded", [seconds]),  # noqa: S611
        health_p95_ms=RawSQL(  # noqa: S611
            f"SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms) {attempts_in_window}", [seconds]
        ),
        n_pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        n_held=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.HELD)),
        n_failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    )
