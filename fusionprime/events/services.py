"""Recording events (inside the caller's transaction) and publishing them (after commit)."""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from fusionprime.db import copy_insert, new_instances, update_rows
from fusionprime.events.models import Event
from fusionprime.ids import new_id

logger = logging.getLogger(__name__)


@cache
def _record_hooks():
    return [import_string(path) for path in settings.EVENT_RECORD_HOOKS]


@dataclass
class EventDraft:
    """An event about to be appended; its id is fixed up front so callers can reference it."""

    aggregate_type: str
    aggregate_id: str
    type: str
    data: dict
    actor: str
    topic: str | None = None
    source: str | None = None
    occurred_at: datetime | None = None
    # The aggregate was created in this transaction: no need to look up its last sequence.
    first: bool = False
    id: str = field(default_factory=lambda: new_id("evt"))


def events_record(drafts: list[EventDraft]) -> list[Event]:
    """Appends events in order, in the caller's transaction, which holds the aggregates' row locks.

    The locks keep each aggregate's `sequence` gap-free under concurrent writers; the unique
    constraint on (aggregate, sequence) is the backstop if a caller forgets them. One query finds
    the last sequences, one COPY writes the batch, and each hook sees the batch once.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("events must be recorded inside the transaction that makes the change")
    if not drafts:
        return []
    lookup = {(d.aggregate_type, d.aggregate_id) for d in drafts if not d.first}
    last: dict[tuple[str, str], int] = {}
    if lookup:
        rows = (
            Event.objects.filter(aggregate_id__in={aggregate_id for _, aggregate_id in lookup})
            .values_list("aggregate_type", "aggregate_id")
            .annotate(last=Max("sequence"))
        )
        last = {(t, a): n for t, a, n in rows if (t, a) in lookup}
    now = timezone.now()
    default_topic = settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS
    values = []
    for draft in drafts:
        key = (draft.aggregate_type, draft.aggregate_id)
        last[key] = last.get(key, 0) + 1
        values.append(
            {
                "id": draft.id,
                "type": draft.type,
                "source": draft.source or f"/fusionprime/{draft.aggregate_type}s",
                "aggregate_type": draft.aggregate_type,
                "aggregate_id": draft.aggregate_id,
                "sequence": last[key],
                "occurred_at": draft.occurred_at or now,
                "data": draft.data,
                "actor": draft.actor,
                "topic": draft.topic or default_topic,
            }
        )
    events = new_instances(Event, values)
    copy_insert(events)
    for hook in _record_hooks():
        hook(events=events)
    _kick_publisher_after_commit()
    return events


def event_record(**kwargs) -> Event:
    """Appends one event; see `events_record`."""
    return events_record([EventDraft(**kwargs)])[0]


KICK_PENDING_KEY = "events:publish-kick-pending"


def _kick_publisher():
    """Enqueues a publisher run unless one is already queued and not yet started.

    A queued run starts after this commit, so it will see this transaction's events; the run clears
    the mark when it starts. Under load this turns a broker round trip per commit into one cache
    write. The mark needs a cache shared with the workers (Redis); with a per-process cache every
    commit kicks. A lost mark expires within a second; the beat sweep is the safety net either way.
    """
    from django.core.cache import cache

    from fusionprime.events.tasks import publish_events_task

    shared = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    if not shared or cache.add(KICK_PENDING_KEY, 1, timeout=1):
        publish_events_task.delay()


def _kick_publisher_after_commit() -> None:
    # One kick per transaction, however many events it records.
    if any(func is _kick_publisher for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_kick_publisher, robust=True)


@dataclass
class PublishResult:
    published: int = 0
    failed: int = 0
    batches: int = 0


def _due_heads(now: datetime):
    """The earliest unpublished event of each aggregate, if it is due.

    Only a head can be claimed; whoever holds a head's lock owns the aggregate's later events, so
    two publishers never interleave one aggregate and its order is kept.
    """
    earlier_unpublished = Event.objects.filter(
        aggregate_type=OuterRef("aggregate_type"),
        aggregate_id=OuterRef("aggregate_id"),
        sequence__lt=OuterRef("sequence"),
        published_at__isnull=True,
    )
    return (
        Event.objects.filter(published_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(Exists(earlier_unpublished))
    )


def _backoff(attempts: int) -> timedelta:
    base = settings.EVENT_PUBLISH_BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 20)
    seconds = min(settings.EVENT_PUBLISH_BACKOFF_MAX_SECONDS, base)
    return timedelta(seconds=seconds * (1 + random.random() / 4))  # noqa: S311 - jitter, not crypto


def _publish_batch(backend, *, batch_size: int) -> tuple[int, int]:
    now = timezone.now()
    with transaction.atomic():
        heads = list(_due_heads(now).select_for_update(skip_locked=True).order_by("occurred_at", "id")[:batch_size])
        if not heads:
            return 0, 0
        owned = {(e.aggregate_type, e.aggregate_id) for e in heads}
        followers = (
            Event.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, aggregate_id__in={a for _, a in owned})
            .exclude(id__in=[e.id for e in heads])
            .order_by("aggregate_type", "aggregate_id", "sequence")[: batch_size * 4]
        )
        by_aggregate: dict[tuple[str, str], list[Event]] = {key: [] for key in owned}
        for event in [*heads, *followers]:
            key = (event.aggregate_type, event.aggregate_id)
            if key in by_aggregate:
                by_aggregate[key].append(event)
        for events in by_aggregate.values():
            events.sort(key=lambda e: e.sequence)
            # A gap means another transaction's event is not visible yet: stop before it.
            for i in range(1, len(events)):
                if events[i].sequence != events[i - 1].sequence + 1:
                    del events[i:]
                    break

        outcomes = backend.publish([e for events in by_aggregate.values() for e in events])
        published_at = timezone.now()
        done, failed = [], []
        for events in by_aggregate.values():
            for event in events:
                outcome = outcomes[event.id]
                if isinstance(outcome, Exception):
                    event.publish_attempts += 1
                    event.next_attempt_at = published_at + _backoff(event.publish_attempts)
                    event.last_error = f"{type(outcome).__name__}: {outcome}"[:2000]
                    failed.append(event)
                    break  # later events of this aggregate wait for this one
                event.published_at = published_at
                event.message_id = str(outcome)[:64]
                event.last_error = ""
                done.append(event)
        update_rows(done, ["published_at", "message_id", "last_error"])
        update_rows(failed, ["publish_attempts", "next_attempt_at", "last_error"])
    for event in failed:
        logger.warning(
            "events.publish_failed",
            extra={"event_id": event.id, "attempts": event.publish_attempts, "error": event.last_error},
        )
    return len(done), len(failed)


def events_publish_pending(*, batch_size: int | None = None, time_budget: float = 20.0) -> PublishResult:
    """Publishes every due event, batch after batch, until none is left or the budget is spent."""
    from fusionprime.events.publisher import get_backend

    backend = get_backend()
    result = PublishResult()
    deadline = time.monotonic() + time_budget
    while time.monotonic() < deadline:
        done, failed = _publish_batch(backend, batch_size=batch_size or settings.EVENT_PUBLISH_BATCH_SIZE)
        result.published += done
        result.failed += failed
        if not done and not failed:
            break
        result.batches += 1
        if not done:
            break
    return result


def event_publish_retry_now(*, event_ids: list[str]) -> int:
    """Makes failed events due at once (admin action); publishing stays with the publisher."""
    updated = Event.objects.filter(id__in=event_ids, published_at__isnull=True).update(next_attempt_at=None)
    if updated:
        transaction.on_commit(_kick_publisher, robust=True)
    return updated
