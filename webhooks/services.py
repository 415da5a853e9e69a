"""Every write in webhooks: endpoints, secrets, deliveries, the delivery sweep and endpoint health.

The database holds the schedule. A delivery is claimed by setting a lease in a short
`SELECT … FOR UPDATE SKIP LOCKED` transaction, the HTTP request runs outside any transaction, and
the outcome is written in another short one. Celery tasks only trigger the sweep.
"""

import fnmatch
import json
import logging
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from fusionprime.db import copy_insert, raw_instances, update_rows
from fusionprime.errors import Conflict, NotFound, ValidationError
from fusionprime.events.models import Event
from fusionprime.ids import new_id
from webhooks import crypto, transport
from webhooks.models import (
    RESOLVED_STATUSES,
    AttemptTrigger,
    DeliveryStatus,
    EndpointState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)

logger = logging.getLogger(__name__)

MAX_EVENT_TYPES = 100
MAX_HEADERS = 20
EVENT_TYPE_RE = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
RESERVED_HEADERS = {"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"}
# Event data fields that name a party; an endpoint's counterparty filter matches any of them (README).
COUNTERPARTY_FIELDS = (
    "payer_reference",
    "payee_reference",
    "counterparty",
    "payer",
    "payee",
    "depositor",
    "beneficiary",
)
TEST_EVENT_TYPE = "webhook.test"
USER_AGENT = "FusionPrime-Webhooks/1.0"


# --- endpoints ----------------------------------------------------------------------------------


def _validate_url(url) -> str:
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise ValidationError("url must be a URL of at most 2048 characters.", param="url", code="invalid_url")
    try:
        transport.url_check(url)
    except transport.BlockedAddress as exc:
        raise ValidationError(str(exc), param="url", code="url_not_allowed") from exc
    except transport.InvalidUrl as exc:
        raise ValidationError(str(exc), param="url", code="invalid_url") from exc
    return url


def _validate_event_types(event_types) -> list[str]:
    if not isinstance(event_types, list) or not event_types:
        raise ValidationError(
            'event_types must be a non-empty list, e.g. ["settlement.*"] or ["*"].',
            param="event_types",
            code="invalid_event_types",
        )
    if len(event_types) > MAX_EVENT_TYPES:
        raise ValidationError(
            f"At most {MAX_EVENT_TYPES} event types.", param="event_types", code="invalid_event_types"
        )
    for value in event_types:
        if not isinstance(value, str) or not EVENT_TYPE_RE.match(value):
            raise ValidationError(
                f"'{value}' is not an event type or wildcard like 'settlement.created', 'escrow.*' or '*'.",
                param="event_types",
                code="invalid_event_types",
            )
    return list(dict.fromkeys(event_types))


def _validate_headers(headers) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise ValidationError(
            f"headers must be an object of at most {MAX_HEADERS} string values.",
            param="headers",
            code="invalid_headers",
        )
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME_RE.match(name):
            raise ValidationError(f"'{name}' is not a valid header name.", param="headers", code="invalid_headers")
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            raise ValidationError(
                f"The {name} header is set by the delivery itself.", param=f"headers.{name}", code="reserved_header"
            )
        if not isinstance(value, str) or len(value) > 1000 or any(c in value for c in "\r\n\0"):
            raise ValidationError(
                "Header values are single-line strings of at most 1000 characters.",
                param=f"headers.{name}",
                code="invalid_headers",
            )
    return headers


def _validate_limits(rate_limit, max_in_flight) -> None:
    if rate_limit is not None and (not isinstance(rate_limit, int) or isinstance(rate_limit, bool) or rate_limit < 1):
        raise ValidationError("rate_limit must be a positive integer or null.", param="rate_limit")
    if not isinstance(max_in_flight, int) or isinstance(max_in_flight, bool) or not 1 <= max_in_flight <= 1000:
        raise ValidationError("max_in_flight must be an integer from 1 to 1000.", param="max_in_flight")


def _validate_state(state) -> str:
    if state not in (EndpointState.ACTIVE, EndpointState.PAUSED):
        raise ValidationError(
            "state can be set to 'active' or 'paused' ('disabled' is set by the system).",
            param="state",
            code="invalid_state",
        )
    return state


def _new_secret(endpoint: WebhookEndpoint) -> str:
    secret = crypto.secret_generate()
    WebhookSecret.objects.create(endpoint=endpoint, ciphertext=crypto.secret_encrypt(secret))
    return secret


def webhook_endpoint_create(
    *,
    url: str,
    actor: str,
    event_types: list[str],
    description: str = "",
    counterparty: str = "",
    headers: dict | None = None,
    state: str = EndpointState.ACTIVE,
    rate_limit: int | None = None,
    max_in_flight: int = 10,
) -> tuple[WebhookEndpoint, str]:
    """Returns the endpoint and its secret; the secret is never readable again (only rotated)."""
    _validate_limits(rate_limit, max_in_flight)
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        url=_validate_url(url),
        description=description,
        event_types=_validate_event_types(event_types),
        counterparty=counterparty,
        headers=_validate_headers(headers),
        state=_validate_state(state),
        rate_limit=rate_limit,
        max_in_flight=max_in_flight,
        created_by=actor,
    )
    with transaction.atomic():
        endpoint.save(force_insert=True)
        secret = _new_secret(endpoint)
    logger.info("webhook.endpoint_created", extra={"endpoint_id": endpoint.id, "actor": actor})
    return endpoint, secret


def _lock_endpoint(endpoint_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint '{endpoint_id}'.", param="id", code="webhook_endpoint_not_found")
    return endpoint


_UNSET = object()


def webhook_endpoint_update(
    *,
    endpoint_id: str,
    actor: str,
    url=_UNSET,
    description=_UNSET,
    event_types=_UNSET,
    counterparty=_UNSET,
    headers=_UNSET,
    state=_UNSET,
    rate_limit=_UNSET,
    max_in_flight=_UNSET,
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        changes = {}
        if url is not _UNSET:
            changes["url"] = _validate_url(url)
        if description is not _UNSET:
            changes["description"] = description
        if event_types is not _UNSET:
            changes["event_types"] = _validate_event_types(event_types)
        if counterparty is not _UNSET:
            changes["counterparty"] = counterparty
        if headers is not _UNSET:
            changes["headers"] = _validate_headers(headers)
        new_rate = endpoint.rate_limit if rate_limit is _UNSET else rate_limit
        new_max = endpoint.max_in_flight if max_in_flight is _UNSET else max_in_flight
        _validate_limits(new_rate, new_max)
        changes.update(rate_limit=new_rate, max_in_flight=new_max)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=[*changes, "updated_at"])
        if state is not _UNSET and state != endpoint.state:
            _validate_state(state)
            if state == EndpointState.PAUSED:
                endpoint = _set_inactive(endpoint, state=EndpointState.PAUSED, reason="", actor=actor)
            else:
                endpoint = _set_active(endpoint, held="deliver", actor=actor)
    return endpoint


def webhook_endpoint_delete(*, endpoint_id: str, actor: str) -> None:
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        endpoint.delete()
    logger.info("webhook.endpoint_deleted", extra={"endpoint_id": endpoint_id, "actor": actor})


def webhook_endpoint_rotate_secret(
    *, endpoint_id: str, actor: str, overlap: timedelta | None = None, now: datetime | None = None
) -> str:
    """New secret signs from now on; the previous ones keep signing alongside it for `overlap`."""
    now = now or timezone.now()
    overlap = settings.WEBHOOKS_SECRET_ROTATION_OVERLAP if overlap is None else overlap
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        WebhookSecret.objects.filter(endpoint=endpoint).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now + overlap)
        ).update(expires_at=now + overlap)
        secret = _new_secret(endpoint)
    logger.info("webhook.secret_rotated", extra={"endpoint_id": endpoint_id, "actor": actor})
    return secret


def _set_inactive(endpoint: WebhookEndpoint, *, state: str, reason: str, actor: str) -> WebhookEndpoint:
    """Pause or disable; pending deliveries are kept as held (in-flight ones finish, then are held)."""
    endpoint.state = state
    endpoint.disabled_reason = reason[:500] if state == EndpointState.DISABLED else ""
    endpoint.save(update_fields=["state", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(status=DeliveryStatus.HELD)
    logger.info("webhook.endpoint_state", extra={"endpoint_id": endpoint.id, "state": state, "actor": actor})
    return endpoint


def _set_active(endpoint: WebhookEndpoint, *, held: str, actor: str) -> WebhookEndpoint:
    if held not in ("deliver", "skip"):
        raise ValidationError("held must be 'deliver' or 'skip'.", param="held")
    now = timezone.now()
    was_disabled = endpoint.state == EndpointState.DISABLED
    endpoint.state = EndpointState.ACTIVE
    endpoint.disabled_reason = ""
    fields = ["state", "disabled_reason", "updated_at"]
    if was_disabled:
        # A re-enabled endpoint starts with a clean health record, or it would be disabled again at once.
        endpoint.failing_since = None
        endpoint.consecutive_failures = 0
        endpoint.notified_failing_at = None
        endpoint.notified_disable_warning_at = None
        fields += ["failing_since", "consecutive_failures", "notified_failing_at", "notified_disable_warning_at"]
    endpoint.save(update_fields=fields)
    held_rows = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.HELD)
    if held == "skip":
        count = held_rows.update(status=DeliveryStatus.SKIPPED, finished_at=now, lease_expires_at=None)
    else:
        count = held_rows.update(status=DeliveryStatus.PENDING, next_attempt_at=now)
        if count:
            _kick_after_commit()
    logger.info(
        "webhook.endpoint_state",
        extra={"endpoint_id": endpoint.id, "state": "active", "held": held, "count": count, "actor": actor},
    )
    return endpoint


def webhook_endpoint_pause(*, endpoint_id: str, actor: str) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        if endpoint.state != EndpointState.ACTIVE:
            raise Conflict(f"Endpoint {endpoint_id} is {endpoint.state}, not active.", code="endpoint_not_active")
        return _set_inactive(endpoint, state=EndpointState.PAUSED, reason="", actor=actor)


def webhook_endpoint_resume(*, endpoint_id: str, actor: str, held: str = "deliver") -> WebhookEndpoint:
    """Paused or disabled → active. Held deliveries are delivered (in order) or skipped."""
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        if endpoint.state == EndpointState.ACTIVE:
            raise Conflict(f"Endpoint {endpoint_id} is already active.", code="endpoint_already_active")
        return _set_active(endpoint, held=held, actor=actor)


def webhook_endpoint_disable(*, endpoint_id: str, reason: str, actor: str) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        if endpoint.state == EndpointState.DISABLED:
            return endpoint
        endpoint = _set_inactive(endpoint, state=EndpointState.DISABLED, reason=reason, actor=actor)
        _notify_ops(
            subject=f"Webhook endpoint {endpoint.id} disabled",
            body=f"{endpoint.url} was disabled: {reason}\nHeld deliveries are kept; re-enable it in admin.",
        )
    return endpoint


def webhook_endpoint_send_test(*, endpoint_id: str, actor: str) -> WebhookDelivery:
    """A `webhook.test` event for this endpoint only; it is not an event of the log."""
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        if endpoint.state != EndpointState.ACTIVE:
            raise Conflict(
                f"Endpoint {endpoint_id} is {endpoint.state}; resume it before sending a test event.",
                code="endpoint_not_active",
            )
        now = timezone.now()
        delivery_id, event_id = new_id("whd"), new_id("evt")
        envelope = {
            "specversion": "1.0",
            "id": event_id,
            "type": TEST_EVENT_TYPE,
            "source": "/fusionprime/webhooks",
            "subject": f"webhook_endpoint/{endpoint.id}",
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "sequence": f"{1:020d}",
            "datacontenttype": "application/json",
            "dataschema": f"{settings.EVENT_SCHEMA_BASE_URL}/webhook_endpoint/v1",
            "data": {"object": "webhook_test", "endpoint_id": endpoint.id, "requested_by": actor},
        }
        delivery = WebhookDelivery.objects.create(
            id=delivery_id,
            endpoint=endpoint,
            event_id=event_id,
            event_type=TEST_EVENT_TYPE,
            aggregate_type="webhook_test",
            aggregate_id=delivery_id,  # each test stands alone: it never waits behind another
            sequence=1,
            is_test=True,
            body=json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode(),
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            next_trigger=AttemptTrigger.TEST,
        )
        _kick_after_commit()
    return delivery


# --- creating deliveries (inside the event's transaction) ---------------------------------------


def event_type_matches(patterns: list[str], event_type: str) -> bool:
    return any(
        p == "*" or p == event_type or (p.endswith(".*") and fnmatch.fnmatchcase(event_type, p)) for p in patterns
    )


def counterparty_matches(counterparty: str, data) -> bool:
    """True if the endpoint has no filter, or a party field of the event data (or of a nested
    `settlement` object, as escrow events carry) equals it."""
    if not counterparty:
        return True
    if not isinstance(data, dict):
        return False
    for scope in (data, data.get("settlement")):
        if isinstance(scope, dict) and any(scope.get(name) == counterparty for name in COUNTERPARTY_FIELDS):
            return True
    return False


# Runs in every transaction that records events: a fixed statement skips the ORM's query compilation.
_ENDPOINTS_FOR_MATCHING = f"SELECT id, event_types, counterparty, state FROM {WebhookEndpoint._meta.db_table}"  # noqa: S608


def deliveries_create_for_events(*, events: list[Event]) -> list[WebhookDelivery]:
    """EVENT_RECORD_HOOKS hook: one delivery per matching endpoint and event, in the events' transaction."""
    endpoints = raw_instances(WebhookEndpoint, _ENDPOINTS_FOR_MATCHING)
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = []
    for event in events:
        matching = [
            e
            for e in endpoints
            if event_type_matches(e.event_types, event.type) and counterparty_matches(e.counterparty, event.data)
        ]
        if not matching:
            continue
        body = event.to_bytes()
        deliveries += [
            WebhookDelivery(
                id=new_id("whd"),
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                sequence=event.sequence,
                body=body,
                status=DeliveryStatus.PENDING if endpoint.state == EndpointState.ACTIVE else DeliveryStatus.HELD,
                next_attempt_at=now,
            )
            for endpoint in matching
        ]
    copy_insert(deliveries)  # a relayer range can match thousands of events
    if any(d.status == DeliveryStatus.PENDING for d in deliveries):
        _kick_after_commit()
    return deliveries


def _kick():
    from webhooks.tasks import deliver_due_task

    deliver_due_task.delay()


def _kick_after_commit() -> None:
    if not settings.WEBHOOKS_KICK_ON_COMMIT:
        return
    # One kick per transaction, however many deliveries it creates.
    if any(func is _kick for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_kick, robust=True)


# --- the sweep ----------------------------------------------------------------------------------


@dataclass
class _Claimed:
    delivery_id: str
    endpoint_id: str
    event_id: str
    url: str
    headers: dict
    body: bytes
    number: int
    trigger: str
    secrets: list[str] = field(default_factory=list)


@dataclass
class SweepResult:
    claimed: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    batches: int = 0


def _max_attempts() -> int:
    return len(settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS)


def _active_secrets(endpoint_ids: set[str], now: datetime) -> dict[str, list[str]]:
    rows = (
        WebhookSecret.objects.filter(endpoint_id__in=endpoint_ids)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("endpoint_id", "-created_at", "-id")
        .values_list("endpoint_id", "ciphertext")
    )
    result: dict[str, list[str]] = {}
    for endpoint_id, ciphertext in rows:
        result.setdefault(endpoint_id, []).append(crypto.secret_decrypt(ciphertext))
    return result


def _due_heads(now: datetime, endpoint_ids: list[str], limit: int) -> list[str]:
    """Ids of due, unleased pending deliveries that head their aggregate's open deliveries at their
    endpoint, earliest due first.

    One pass numbers each aggregate's open deliveries by sequence, and the heads are filtered after
    that, so a held or not-yet-due head still holds back the deliveries behind it. A per-candidate
    "no earlier open delivery" check did the same, but on statistics not yet refreshed after a burst of
    new deliveries the planner served it by scanning the endpoint's open deliveries for every candidate
    (42 ms a claim at 520 open, growing with the square of the backlog). This statement has no join.
    """
    at = connection.ops.adapt_datetimefield_value(now)
    endpoints = ", ".join(["%s"] * len(endpoint_ids))
    sql = f"""
        SELECT id FROM (
            SELECT id, status, next_attempt_at, lease_expires_at, row_number() OVER (
                PARTITION BY endpoint_id, aggregate_type, aggregate_id ORDER BY sequence
            ) AS place
            FROM {WebhookDelivery._meta.db_table}
            WHERE status IN (%s, %s) AND endpoint_id IN ({endpoints})
        ) AS open_deliveries
        WHERE place = 1 AND status = %s AND next_attempt_at <= %s
          AND (lease_expires_at IS NULL OR lease_expires_at <= %s)
        ORDER BY next_attempt_at, id
        LIMIT %s
    """  # noqa: S608 - the table name is the model's; every value is a parameter
    params = [DeliveryStatus.PENDING, DeliveryStatus.HELD, *endpoint_ids, DeliveryStatus.PENDING, at, at, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _endpoint_allowances(now: datetime) -> dict[str, int]:
    """How many more deliveries each active endpoint may start now (in-flight cap and rate limit)."""
    lease = timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    endpoints = list(
        WebhookEndpoint.objects.filter(state=EndpointState.ACTIVE).values_list("id", "max_in_flight", "rate_limit")
    )
    in_flight = dict(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD], lease_expires_at__gt=now
        )
        .values("endpoint_id")
        .annotate(n=Count("id"))
        .values_list("endpoint_id", "n")
    )
    limited = [endpoint_id for endpoint_id, _, rate in endpoints if rate]
    started_last_second: dict[str, int] = {}
    if limited:
        # Finished attempts of the last second plus claims of the last second that are still running.
        for endpoint_id, n in (
            WebhookAttempt.objects.filter(endpoint_id__in=limited, started_at__gt=now - timedelta(seconds=1))
            .values("endpoint_id")
            .annotate(n=Count("id"))
            .values_list("endpoint_id", "n")
        ):
            started_last_second[endpoint_id] = n
        for endpoint_id, n in (
            WebhookDelivery.objects.filter(
                endpoint_id__in=limited, lease_expires_at__gt=now + lease - timedelta(seconds=1)
            )
            .values("endpoint_id")
            .annotate(n=Count("id"))
            .values_list("endpoint_id", "n")
        ):
            started_last_second[endpoint_id] = started_last_second.get(endpoint_id, 0) + n
    allowances = {}
    for endpoint_id, max_in_flight, rate in endpoints:
        allowance = max_in_flight - in_flight.get(endpoint_id, 0)
        if rate:
            allowance = min(allowance, rate - started_last_second.get(endpoint_id, 0))
        allowances[endpoint_id] = max(0, allowance)
    return allowances


def _claim(*, now: datetime, limit: int) -> list[_Claimed]:
    lease_until = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    with transaction.atomic():
        allowances = _endpoint_allowances(now)
        open_endpoints = [endpoint_id for endpoint_id, n in allowances.items() if n > 0]
        if not open_endpoints:
            return []
        heads = _due_heads(now, open_endpoints, limit * 2)
        if not heads:
            return []
        # Locked by id, each still checked: another worker may have claimed one since it was read.
        candidates = list(
            WebhookDelivery.objects.filter(pk__in=heads, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
            .filter(endpoint__state=EndpointState.ACTIVE)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .order_by("next_attempt_at", "id")
        )
        chosen, lost = [], []
        for delivery in candidates:
            if len(chosen) >= limit or allowances[delivery.endpoint_id] <= 0:
                continue
            allowances[delivery.endpoint_id] -= 1
            if delivery.lease_expires_at is not None:
                lost.append(delivery)  # its worker died mid-attempt
            chosen.append(delivery)
        if not chosen:
            return []
        secrets = _active_secrets({d.endpoint_id for d in chosen}, now)
        claimed = []
        for delivery in chosen:
            delivery.attempts += 1
            delivery.lease_expires_at = lease_until
            claimed.append(
                _Claimed(
                    delivery_id=delivery.id,
                    endpoint_id=delivery.endpoint_id,
                    event_id=delivery.event_id,
                    url=delivery.endpoint.url,
                    headers=dict(delivery.endpoint.headers or {}),
                    body=bytes(delivery.body or b""),
                    number=delivery.attempts,
                    trigger=delivery.next_trigger,
                    secrets=secrets.get(delivery.endpoint_id, []),
                )
            )
        update_rows(chosen, ["attempts", "lease_expires_at"])
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery_id=d.id,
                    endpoint_id=d.endpoint_id,
                    number=d.attempts - 1,
                    trigger=d.next_trigger,
                    started_at=now,
                    url=d.endpoint.url,
                    error_class="lease_expired",
                    error_message="The worker running this attempt stopped before recording it.",
                )
                for d in lost
            ]
        )
    return claimed


def _send(claimed: _Claimed) -> transport.Response:
    timestamp = int(time.time())
    headers = {
        **claimed.headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": crypto.signature_header(
            secrets_=claimed.secrets, msg_id=claimed.event_id, timestamp=timestamp, body=claimed.body
        ),
    }
    return transport.post(
        claimed.url,
        body=claimed.body,
        headers=headers,
        connect_timeout=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
        total_timeout=settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS,
        body_limit=settings.WEBHOOKS_RESPONSE_BODY_LIMIT,
    )


def _retry_after_seconds(response: transport.Response, now: datetime) -> float | None:
    if response.status_code not in (429, 503):
        return None
    raw = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        seconds = float(raw)
    else:
        try:
            seconds = (parsedate_to_datetime(raw) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, float(settings.WEBHOOKS_RETRY_AFTER_MAX_SECONDS)))


def retry_delay(*, attempts_done: int, retry_after: float | None = None) -> timedelta | None:
    """Delay before the next attempt after `attempts_done` attempts, or None when they are used up."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS
    if attempts_done >= len(schedule):
        return None
    base = schedule[attempts_done]
    jittered = base * (1 + random.random() * settings.WEBHOOKS_RETRY_JITTER_RATIO)  # noqa: S311 - jitter, not crypto
    return timedelta(seconds=max(jittered, retry_after or 0.0))


def _attempt(claimed: _Claimed, response: transport.Response) -> WebhookAttempt:
    return WebhookAttempt(
        delivery_id=claimed.delivery_id,
        endpoint_id=claimed.endpoint_id,
        number=claimed.number,
        trigger=claimed.trigger,
        started_at=datetime.fromtimestamp(response.started_at, tz=UTC),
        latency_ms=response.latency_ms,
        url=claimed.url,
        resolved_ip=response.resolved_ip,
        status_code=response.status_code,
        response_headers=response.headers,
        response_body=response.body,
        succeeded=response.ok,
        error_class=response.error_class,
        error_message=response.error_message[:1000],
    )


def _still_open_at(attempt: int, delivery_ids: list[str]):
    # Matching the attempt number makes a late writer (whose lease was taken over) a no-op.
    return WebhookDelivery.objects.filter(
        pk__in=delivery_ids, attempts=attempt, status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD]
    )


def _record(items: list[tuple[_Claimed, transport.Response]], *, now: datetime, result: SweepResult) -> None:
    """Records a batch's attempts in claim order, in the caller's transaction.

    The successes between two failures are written together (one COPY of their attempts, one guarded
    UPDATE per attempt number and status code, one health stamp per endpoint): three statements and a
    savepoint per delivery capped how fast a backlog drains. Each failure is written on its own, after
    the successes before it, so an endpoint's health ends as the attempts' order leaves it.
    """
    successes: list[tuple[_Claimed, transport.Response]] = []
    for claimed, response in items:
        if response.ok:
            successes.append((claimed, response))
            continue
        _record_successes(successes, now=now, result=result)
        successes = []
        _record_failure(claimed, response, now=now, result=result)
    _record_successes(successes, now=now, result=result)


def _record_successes(items: list[tuple[_Claimed, transport.Response]], *, now: datetime, result: SweepResult) -> None:
    if not items:
        return
    copy_insert([_attempt(claimed, response) for claimed, response in items])
    guarded: dict[tuple[int, int], list[str]] = {}
    for claimed, response in items:
        guarded.setdefault((claimed.number, response.status_code), []).append(claimed.delivery_id)
    for (number, status_code), ids in guarded.items():
        _still_open_at(number, ids).update(
            status=DeliveryStatus.SUCCEEDED,
            finished_at=now,
            last_error="",
            lease_expires_at=None,
            last_status_code=status_code,
        )
    result.succeeded += len(items)
    WebhookEndpoint.objects.filter(pk__in={claimed.endpoint_id for claimed, _ in items}).filter(
        # At most one write a second on the hot path: concurrent successes would queue on this row.
        Q(failing_since__isnull=False)
        | Q(consecutive_failures__gt=0)
        | Q(last_success_at__isnull=True)
        | Q(last_success_at__lt=now - timedelta(seconds=1))
    ).update(
        last_success_at=now,
        failing_since=None,
        consecutive_failures=0,
        notified_failing_at=None,
        notified_disable_warning_at=None,
    )
    for claimed, response in items:
        # One line per success: the webhook-success SLO in Cloud Monitoring counts these.
        logger.info(
            "webhook.delivery_succeeded",
            extra={"delivery_id": claimed.delivery_id, "attempt": claimed.number, "latency_ms": response.latency_ms},
        )


def _record_failure(claimed: _Claimed, response: transport.Response, *, now: datetime, result: SweepResult) -> None:
    gone = response.status_code == 410
    _attempt(claimed, response).save()
    mine = _still_open_at(claimed.number, [claimed.delivery_id])
    common = {"lease_expires_at": None, "last_status_code": response.status_code}
    error = f"{response.error_class}: {response.error_message}"[:500]
    WebhookEndpoint.objects.filter(pk=claimed.endpoint_id).update(
        last_failure_at=now, consecutive_failures=F("consecutive_failures") + 1
    )
    WebhookEndpoint.objects.filter(pk=claimed.endpoint_id, failing_since__isnull=True).update(failing_since=now)
    if gone:
        mine.update(status=DeliveryStatus.HELD, last_error=error, **common)
        result.held += 1
        webhook_endpoint_disable(
            endpoint_id=claimed.endpoint_id, reason="The endpoint answered 410 Gone.", actor="system:webhooks"
        )
        return
    delay = None
    if claimed.trigger == AttemptTrigger.SCHEDULED:
        delay = retry_delay(attempts_done=claimed.number, retry_after=_retry_after_seconds(response, now))
    if delay is None:
        mine.update(status=DeliveryStatus.FAILED, finished_at=now, last_error=error, **common)
        result.failed += 1
    else:
        # A paused endpoint keeps it held; otherwise it is due again after the delay.
        mine.filter(status=DeliveryStatus.HELD).update(next_attempt_at=now + delay, last_error=error, **common)
        mine.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=now + delay, last_error=error, **common)
        result.retrying += 1
    _notify_failing_once(endpoint_id=claimed.endpoint_id, now=now, error=error)
    logger.warning(
        "webhook.delivery_failed",
        extra={"delivery_id": claimed.delivery_id, "attempt": claimed.number, "error": error},
    )


@cache
def _executor(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks-http")


def deliveries_process_due(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
    max_batches: int | None = None,
) -> SweepResult:
    """Claims due deliveries and attempts them, batch after batch, until none is due or the budget is spent.

    `now` pins the clock (tests); by default each batch reads the clock afresh.
    """
    batch_size = batch_size or settings.WEBHOOKS_SWEEP_BATCH_SIZE
    budget = settings.WEBHOOKS_SWEEP_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    deadline = time.monotonic() + budget
    result = SweepResult()
    while max_batches is None or result.batches < max_batches:
        if time.monotonic() >= deadline:
            # Due deliveries may remain, and a sweep kicked meanwhile found their endpoints' allowance
            # held by this one and left: the next sweep starts now, not at the next beat.
            _kick_after_commit()
            break
        batch_now = now or timezone.now()
        claimed = _claim(now=batch_now, limit=batch_size)
        if not claimed:
            break
        result.claimed += len(claimed)
        result.batches += 1
        if len(claimed) == 1:
            responses = [_send(claimed[0])]
        else:
            responses = list(_executor(settings.WEBHOOKS_SWEEP_CONCURRENCY).map(_send, claimed))
        # One commit per batch: a commit (WAL flush) per delivery would cap throughput.
        with transaction.atomic():
            _record(list(zip(claimed, responses, strict=True)), now=now or timezone.now(), result=result)
    return result


# --- operator tools -----------------------------------------------------------------------------


def _lock_delivery(delivery_id: str) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"No webhook delivery '{delivery_id}'.", param="id", code="webhook_delivery_not_found")
    return delivery


def delivery_resend(*, delivery_id: str, actor: str) -> WebhookDelivery:
    """One manual attempt now (in order behind earlier open deliveries of its aggregate)."""
    with transaction.atomic():
        delivery = _lock_delivery(delivery_id)
        now = timezone.now()
        if delivery.endpoint.state != EndpointState.ACTIVE:
            raise Conflict(
                f"Endpoint {delivery.endpoint_id} is {delivery.endpoint.state}; resume it first.",
                code="endpoint_not_active",
            )
        if delivery.body is None:
            raise Conflict(f"Delivery {delivery_id}'s payload was purged.", code="payload_purged")
        if delivery.status == DeliveryStatus.PENDING and delivery.lease_expires_at and delivery.lease_expires_at > now:
            raise Conflict(f"Delivery {delivery_id} is being attempted right now.", code="delivery_in_flight")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.next_trigger = AttemptTrigger.MANUAL
        delivery.finished_at = None
        delivery.save(update_fields=["status", "next_attempt_at", "next_trigger", "finished_at"])
        _kick_after_commit()
    logger.info("webhook.delivery_resend", extra={"delivery_id": delivery_id, "actor": actor})
    return delivery


def delivery_skip(*, delivery_id: str, actor: str) -> WebhookDelivery:
    """Lets later deliveries of the same aggregate go without this one."""
    with transaction.atomic():
        delivery = _lock_delivery(delivery_id)
        now = timezone.now()
        if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.HELD):
            raise Conflict(
                f"Delivery {delivery_id} is {delivery.status}; only open ones can be skipped.", code="delivery_not_open"
            )
        if delivery.lease_expires_at and delivery.lease_expires_at > now:
            raise Conflict(f"Delivery {delivery_id} is being attempted right now.", code="delivery_in_flight")
        delivery.status = DeliveryStatus.SKIPPED
        delivery.finished_at = now
        delivery.lease_expires_at = None
        delivery.last_error = f"skipped by {actor}"[:500]
        delivery.save(update_fields=["status", "finished_at", "lease_expires_at", "last_error"])
        _kick_after_commit()
    return delivery


def deliveries_recover_failed(*, since: datetime, actor: str, endpoint_id: str | None = None) -> int:
    """Re-queues every delivery that failed for good since `since` (active endpoints, payload kept)."""
    with transaction.atomic():
        rows = WebhookDelivery.objects.select_for_update().filter(
            status=DeliveryStatus.FAILED,
            finished_at__gte=since,
            endpoint__state=EndpointState.ACTIVE,
            body__isnull=False,
        )
        if endpoint_id:
            rows = rows.filter(endpoint_id=endpoint_id)
        count = WebhookDelivery.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            next_trigger=AttemptTrigger.MANUAL,
            finished_at=None,
        )
        if count:
            _kick_after_commit()
    logger.info("webhook.deliveries_recovered", extra={"count": count, "since": since.isoformat(), "actor": actor})
    return count


def deliveries_purge_payloads(
    *, now: datetime | None = None, batch_size: int | None = None, max_batches: int = 1000
) -> int:
    """Drops bodies of finished deliveries older than the retention period, in batches; metadata stays."""
    now = now or timezone.now()
    batch_size = batch_size or settings.WEBHOOKS_PURGE_BATCH_SIZE
    cutoff = now - settings.WEBHOOKS_PAYLOAD_RETENTION
    purged = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .filter(status__in=RESOLVED_STATUSES, finished_at__lt=cutoff, body__isnull=False)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            WebhookDelivery.objects.filter(pk__in=ids).update(body=None, body_purged_at=now)
            WebhookAttempt.objects.filter(delivery_id__in=ids).exclude(response_body="").update(response_body="")
        purged += len(ids)
    return purged


# --- endpoint health ----------------------------------------------------------------------------


def _notify_ops(*, subject: str, body: str) -> None:
    recipients = list(settings.WEBHOOKS_OPS_EMAILS)
    logger.warning("webhook.ops_notice", extra={"subject": subject})
    if not recipients:
        return
    transaction.on_commit(
        lambda: send_mail(f"[Fusion Prime] {subject}", body, None, recipients, fail_silently=True), robust=True
    )


def _notify_failing_once(*, endpoint_id: str, now: datetime, error: str) -> None:
    # The conditional update makes exactly one writer the notifier, however many workers fail at once.
    claimed = WebhookEndpoint.objects.filter(
        pk=endpoint_id,
        notified_failing_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOKS_NOTIFY_FAILING_AFTER,
    ).update(notified_failing_at=now)
    if claimed:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        _notify_ops(
            subject=f"Webhook endpoint {endpoint_id} is failing",
            body=(
                f"{endpoint.url} failed {endpoint.consecutive_failures} attempts in a row "
                f"(failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC). Last error: {error}"
            ),
        )


def endpoints_check_health(*, now: datetime | None = None) -> dict[str, int]:
    """Warns before, and performs, the auto-disable of endpoints with no success for too long."""
    now = now or timezone.now()
    disable_before = now - settings.WEBHOOKS_DISABLE_AFTER
    warn_before = disable_before + settings.WEBHOOKS_DISABLE_WARNING_BEFORE
    minimum = settings.WEBHOOKS_DISABLE_MIN_FAILED_DELIVERIES
    candidates = WebhookEndpoint.objects.filter(state=EndpointState.ACTIVE, failing_since__lte=warn_before).annotate(
        failed_since=Count(
            "deliveries",
            filter=Q(deliveries__status=DeliveryStatus.FAILED, deliveries__finished_at__gte=F("failing_since")),
        )
    )
    warned = disabled = 0
    for endpoint in candidates:
        if endpoint.failed_since < minimum:
            continue
        if endpoint.failing_since <= disable_before:
            webhook_endpoint_disable(
                endpoint_id=endpoint.id,
                reason=(
                    f"No successful delivery since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC and "
                    f"{endpoint.failed_since} deliveries failed for good."
                ),
                actor="system:webhooks",
            )
            disabled += 1
        elif WebhookEndpoint.objects.filter(pk=endpoint.id, notified_disable_warning_at__isnull=True).update(
            notified_disable_warning_at=now
        ):
            with transaction.atomic():
                _notify_ops(
                    subject=f"Webhook endpoint {endpoint.id} will be disabled",
                    body=(
                        f"{endpoint.url} has not succeeded since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC. It will "
                        f"be disabled at {endpoint.failing_since + settings.WEBHOOKS_DISABLE_AFTER:%Y-%m-%d %H:%M} UTC "
                        "unless a delivery succeeds."
                    ),
                )
            warned += 1
    return {"warned": warned, "disabled": disabled}
